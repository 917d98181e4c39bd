/**
 * The analytics projection: every event of the log into ClickHouse tables for
 * analysts (see tables.ts for the tables and the README's "ClickHouse
 * tables"). Its processor writes through the ClickHouse state store
 * (streams/clickhouse/state.ts): rows idempotent by key, then the checkpoint.
 *
 * It reads the log *raw* (`subscribeToAll({ raw: true })`, see host.ts):
 * personal fields stay encrypted, as on Kafka, so ClickHouse never holds a
 * tenant's personal data in clear and crypto-shredding reaches it too. Old
 * schema versions are upcast here (Avro resolution does not look inside the
 * encrypted strings), so every row of a type has one shape.
 */
import { defaultCatalog, type Catalog } from '../../streams/catalog/index.ts';
import type { ClickHouse } from '../../streams/clickhouse/client.ts';
import type { ClickHouseWriter } from '../../streams/clickhouse/state.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import type { Processor } from '../../streams/processing/types.ts';
import { applyModel, keys, keysOf, type CapacityRow, type IntervalRow, type ModelContext } from './model.ts';
import { eventRow, eventRowId } from './rows.ts';
import { CAPACITY_HOURLY, EVENTS, migrateAnalytics, VM_STATE_INTERVALS } from './tables.ts';

export const ANALYTICS = 'analytics';

export interface AnalyticsProjection extends Processor<ClickHouseWriter> {
  /** The shape of its tables and the meaning of `apply`. */
  version: number;
  migrate(clickhouse: ClickHouse, database: string): Promise<void>;
}

export const intervalRowId = (row: IntervalRow): string => JSON.stringify([row.tenant_id, row.vm_id, row.from_revision]);
export const capacityRowId = (row: CapacityRow): string => JSON.stringify([row.region_id, row.cluster_id, row.hour]);

/** A raw event (personal fields encrypted, data in the shape it was written with) in its type's current shape. */
export function upcastRaw(catalog: Catalog, event: RecordedEvent): RecordedEvent {
  const data = catalog.upcast(event.type, event.data, event.metadata.schemaVersion);
  return data === event.data ? event : { ...event, data };
}

export function createAnalyticsProjection({ catalog = defaultCatalog() }: { catalog?: Catalog } = {}): AnalyticsProjection {
  return {
    name: ANALYTICS,
    version: 1,
    handles: catalog.types,
    migrate: migrateAnalytics,
    async apply(batch, writer) {
      if (batch.length === 0) return;
      const events = batch.map((event) => upcastRaw(catalog, event));
      for (const event of events) writer.write(EVENTS, eventRowId(event), eventRow(event));

      // The state the batch reads: its entities, stream time, and every capacity series (carried into each new hour).
      const state = await writer.get(new Set([keys.hour, keys.seriesList, ...events.flatMap(keysOf)]));
      const series = (state.get(keys.seriesList) ?? []) as Array<[string, string]>;
      for (const [key, value] of await writer.get(series.map(([region, cluster]) => keys.series(region, cluster)))) state.set(key, value);
      const loaded = new Set([keys.hour, keys.seriesList, ...events.flatMap(keysOf), ...series.map(([region, cluster]) => keys.series(region, cluster))]);

      const ctx: ModelContext = {
        get<T>(key: string): T | undefined {
          if (!loaded.has(key)) throw new Error(`analytics: state key ${JSON.stringify(key)} was read without being loaded`);
          return state.get(key) as T | undefined;
        },
        set(key, value) {
          loaded.add(key);
          if (value === undefined) state.delete(key);
          else state.set(key, value);
          writer.put(key, value);
        },
        interval: (row) => writer.write(VM_STATE_INTERVALS, intervalRowId(row), row),
        capacity: (row) => writer.write(CAPACITY_HOURLY, capacityRowId(row), row),
      };
      applyModel(events, ctx);
    },
  };
}
