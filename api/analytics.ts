/**
 * NOVACRON_CLICKHOUSE_URL: the analytics projection (projections/analytics),
 * fed from the event store's log and written to ClickHouse, beside the other
 * projections of a process; or, with `run: false` (`novacron start --role
 * api`), only read there, its processor running in another process. Unset,
 * nothing changes.
 */
import { createAnalyticsHost } from '../projections/analytics/index.ts';
import type { Catalog } from '../streams/catalog/index.ts';
import { openClickHouse } from '../streams/clickhouse/index.ts';
import { NovaCronError } from '../streams/errors/index.ts';
import type { EventStore, RecordedEvent } from '../streams/eventstore/index.ts';
import { combineProjectionHosts } from '../streams/processing/combined-host.ts';
import type { ProjectionHost } from '../streams/processing/projection-host.ts';
import type { Config } from './config.ts';

export interface AnalyticsWiring {
  store: EventStore;
  catalog: Catalog;
  /** Run the processor here (default true); false: only read what another process writes (no writes, no compaction). */
  run?: boolean;
  onCommit?: (name: string, checkpoint: number, batch: readonly RecordedEvent[]) => void;
  onError?: (name: string, error: unknown) => void;
}

/** The analytics host of the settings (NC_CONFIG_INVALID naming NOVACRON_CLICKHOUSE_URL when it is unset). */
export function openAnalyticsHost(config: Config, { store, catalog, run = true, onCommit, onError }: AnalyticsWiring): ProjectionHost {
  const { url, database, caPath } = config.clickhouse;
  if (url === undefined) {
    throw new NovaCronError('NC_CONFIG_INVALID', 'the analytics projection writes to ClickHouse: set NOVACRON_CLICKHOUSE_URL (eval "$(infra/local/up)" starts one on this machine)', {
      details: { variable: 'NOVACRON_CLICKHOUSE_URL' },
    });
  }
  return createAnalyticsHost({ source: store, clickhouse: openClickHouse({ url, caPath }), database, catalog, run, ...(onCommit ? { onCommit } : {}), ...(onError ? { onError } : {}) });
}

/** `host`, plus the analytics projection (run here, or with `run: false` only read) when NOVACRON_CLICKHOUSE_URL is set. */
export function withAnalytics(config: Config, wiring: AnalyticsWiring, host: ProjectionHost): ProjectionHost {
  return config.clickhouse.url === undefined ? host : combineProjectionHosts([host, openAnalyticsHost(config, wiring)]);
}
