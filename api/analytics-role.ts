/**
 * `novacron start --role processor --processors analytics`: the analytics
 * projection alone, off the API's process. It reads the event store's global
 * log (EventStoreDB with NOVACRON_ESDB_URL, else `<data dir>/events.db`, which
 * the API on the same machine writes) and writes ClickHouse
 * (NOVACRON_CLICKHOUSE_URL). Not from Kafka: see projections/analytics/host.ts.
 * No HTTP API: GET /healthz and GET /metrics on NOVACRON_HOST:NOVACRON_PORT.
 *
 * Exactly one process per ClickHouse database runs the processor: this role,
 * or one `npm start` (role all). Beside it, run the API with `--role api`: with
 * NOVACRON_CLICKHOUSE_URL it serves the analytics routes from what this role
 * writes and writes nothing itself, however many instances run. A second
 * writer would stop with FatalProcessorError once the first compacted its
 * state past it (streams/clickhouse/state.ts).
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { ANALYTICS } from '../projections/analytics/index.ts';
import { createEventCodec, defaultCatalog } from '../streams/catalog/index.ts';
import { createPersonalDataCipher, openKeyStore } from '../streams/crypto/index.ts';
import { createEsdbEventStore } from '../streams/eventstore/esdb/store.ts';
import type { EventStore } from '../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../streams/eventstore/sqlite/store.ts';
import { consoleLog, type Log } from '../streams/kafka/index.ts';
import type { ProjectionHost, ProjectionStatus } from '../streams/processing/projection-host.ts';
import { openAnalyticsHost } from './analytics.ts';
import { withoutCredentials, type Config } from './config.ts';
import { listen } from './http/listen.ts';

export interface RunningAnalytics {
  host: ProjectionHost;
  /** Where /healthz and /metrics answer. */
  url: string;
  registry: Registry;
  close(): Promise<void>;
}

function metricsOf(status: () => Promise<ProjectionStatus[]>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const events = new Counter({ name: 'novacron_processor_events_total', help: 'Events applied by this instance, by processor.', labelNames: ['processor'] as const, registers: [registry] });
  const gauge = (name: string, help: string, pick: (s: ProjectionStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['processor'] as const,
      registers: [registry],
      async collect() {
        for (const s of await status()) this.set({ processor: s.name }, pick(s));
      },
    });
  gauge('novacron_processor_lag', 'Events of the log the processor has not applied yet (head − checkpoint).', (s) => s.lag);
  gauge('novacron_processor_parked_events', 'Events the processor could not apply, parked with their error.', (s) => s.parked);
  gauge('novacron_processor_up', '1 while the processor’s last attempt succeeded, 0 while it retries (ClickHouse unreachable) or has failed.', (s) => (s.error === null && s.state === 'running' ? 1 : 0));
  return { registry, events };
}

/** The log the role reads, opened as the platform opens it (personal data is never decrypted here: the projection reads raw). */
function openLog(config: Config): { store: EventStore; close(): Promise<void> } {
  mkdirSync(config.dataDir, { recursive: true });
  const keys = openKeyStore(config);
  const codec = createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) });
  const store =
    config.esdbUrl !== undefined
      ? createEsdbEventStore({ connectionString: config.esdbUrl, codec })
      : createSqliteEventStore({ path: join(config.dataDir, 'events.db'), codec, sync: config.sqliteSync });
  return {
    store,
    async close() {
      await store.close();
      keys.close();
    },
  };
}

export async function startAnalyticsProcessor(config: Config, { log = consoleLog }: { log?: Log } = {}): Promise<RunningAnalytics> {
  const log$ = openLog(config);
  // Logged when the processor starts failing and when it recovers, not at every retry.
  let failing = false;
  // The gauges read the host's status when scraped, after it exists.
  const metrics = metricsOf(() => host.status());
  let host: ProjectionHost;
  try {
    host = openAnalyticsHost(config, {
      store: log$.store,
      catalog: defaultCatalog(),
      onCommit: (name, _checkpoint, batch) => {
        metrics.events.inc({ processor: name }, batch.length);
        if (failing) log.info({ processor: name }, 'processor recovered');
        failing = false;
      },
      onError: (name, error) => {
        if (!failing) log.error({ processor: name, err: error instanceof Error ? error.message : String(error) }, 'processor error (retrying with backoff)');
        failing = true;
      },
    });
  } catch (error) {
    await log$.close();
    throw error;
  }
  const { registry } = metrics;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'Content-Type': type });
      response.end(body);
    };
    if (request.method === 'GET' && path === '/healthz') {
      host.status().then(
        (rows) => {
          // Failed (a processor gave up) is unhealthy; retrying while ClickHouse is unreachable is degraded but alive.
          const failed = rows.some((r) => r.state === 'failed');
          answer(failed ? 503 : 200, 'application/json', JSON.stringify({ status: failed ? 'failed' : rows.some((r) => r.error !== null) ? 'degraded' : 'ok', processors: rows.map(({ name, state, checkpoint, head, lag, parked, error }) => ({ name, state, checkpoint, head, lag, parked, error })) }));
        },
        (error: unknown) => answer(503, 'application/json', JSON.stringify({ status: 'unavailable', error: error instanceof Error ? error.message : String(error) })),
      );
      return;
    }
    if (request.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => answer(200, registry.contentType, text),
        (error: unknown) => answer(503, 'text/plain', String(error)),
      );
      return;
    }
    answer(404, 'application/json', JSON.stringify({ error: { code: 'NC_ROUTE_NOT_FOUND', message: `no route ${request.method} ${path}: only GET /healthz and GET /metrics` } }));
  });
  try {
    await host.start();
    const url = await listen(server, config.host, config.port);
    let closed: Promise<void> | undefined;
    return {
      host,
      url,
      registry,
      close: () =>
        (closed ??= (async () => {
          await new Promise<void>((resolve) => server.close(() => resolve()));
          try {
            await host.stop();
          } finally {
            await log$.close();
          }
        })()),
    };
  } catch (error) {
    server.close();
    await host.stop().catch(() => undefined);
    await log$.close();
    throw error;
  }
}

/** Runs the analytics processor until SIGTERM or SIGINT (the batch in flight is committed first), exit 0; a second signal exits at once with 1. */
export async function runAnalyticsRole(config: Config, { say = (line: string) => console.log(line), log = consoleLog }: { say?: (line: string) => void; log?: Log } = {}): Promise<number> {
  const running = await startAnalyticsProcessor(config, { log });
  const source = config.esdbUrl !== undefined ? `EventStoreDB ${withoutCredentials(config.esdbUrl)}` : join(config.dataDir, 'events.db');
  say(`NovaCron processor ${ANALYTICS} reading ${source} into ClickHouse ${withoutCredentials(config.clickhouse.url ?? '')}, database ${config.clickhouse.database}`);
  say(`  metrics      ${running.url}/metrics (novacron_processor_lag), status ${running.url}/healthz`);
  say('  stop         Ctrl-C or SIGTERM (the batch in flight is committed first)');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  say(`${signal}: committing the batch in flight (send it again to exit at once)`);
  process.once(signal, () => process.exit(1));
  try {
    await running.close();
    say('NovaCron processor stopped');
    return 0;
  } catch (error) {
    log.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
    return 1;
  }
}
