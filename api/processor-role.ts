/**
 * `novacron start --role processor --processors shard-map,routing-table`:
 * the named projections' processors as members of their Kafka consumer
 * groups, writing the projection files under `<data dir>/projections` that
 * the API reads. No HTTP API: only GET /healthz and GET /metrics on
 * NOVACRON_HOST:NOVACRON_PORT (0 picks a free port).
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { invalidateOnStreamCommit } from '../projections/cache-invalidation/index.ts';
import { embeddedProjections } from '../projections/index.ts';
import { INVENTORY } from '../projections/inventory/index.ts';
import { createEventCodec, defaultCatalog } from '../streams/catalog/index.ts';
import { createPersonalDataCipher, openKeyStore } from '../streams/crypto/index.ts';
import { consoleLog, type Log } from '../streams/kafka/index.ts';
import type { RecordedEvent } from '../streams/eventstore/index.ts';
import type { KafkaProjectionHost, KafkaProjectionStatus } from '../streams/processing/kafka/host.ts';
import { isUnhealthy } from '../streams/processing/runner.ts';
import { withoutCredentials, type Config } from './config.ts';
import { openKafkaProjections, requireKafka } from './kafka-projections.ts';
import { registerInvalidationMetrics } from './metrics/invalidation-metrics.ts';
import { openRedisCache } from './redis-cache.ts';
import { listen } from './http/listen.ts';
import { announceServer } from './running-servers.ts';

export interface RunningProcessors {
  host: KafkaProjectionHost;
  /** Where /healthz and /metrics answer. */
  url: string;
  registry: Registry;
  close(): Promise<void>;
}

/** The names of `--processors a,b`, checked against the projections there are. */
export function parseProcessors(value: string | undefined): string[] {
  const known = embeddedProjections.map((p) => p.name);
  const names = (value ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new RangeError(`--role processor needs --processors <name,…>: one or more of ${known.join(', ')}`);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new RangeError(`--processors: unknown ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${known.join(', ')})`);
  return [...new Set(names)];
}

function processorMetrics(host: () => KafkaProjectionHost) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const events = new Counter({ name: 'novacron_processor_events_total', help: 'Events applied by this instance, by processor.', labelNames: ['processor'] as const, registers: [registry] });
  const fenced = new Counter({
    name: 'novacron_processor_fenced_batches_total',
    help: 'Batches this instance dropped because another instance of the group had applied their partition first (a zombie after a rebalance).',
    labelNames: ['processor'] as const,
    registers: [registry],
  });
  // One status() (a watermark request per topic) serves the gauges of one scrape.
  let last: { at: number; rows: Promise<KafkaProjectionStatus[]> } | null = null;
  const statuses = () => {
    if (!last || performance.now() - last.at > 500) last = { at: performance.now(), rows: host().status() };
    const { rows } = last;
    return rows;
  };
  new Gauge({
    name: 'novacron_processor_lag',
    help: 'Messages of the processor’s topics not applied yet: Σ over partitions of high watermark − (stored offset + 1).',
    labelNames: ['processor'] as const,
    registers: [registry],
    async collect() {
      for (const s of await statuses()) this.set({ processor: s.name }, s.lag);
    },
  });
  new Gauge({
    name: 'novacron_processor_partition_lag',
    help: 'Messages of one partition not applied yet by the processor.',
    labelNames: ['processor', 'topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await statuses()) for (const p of s.partitions) this.set({ processor: s.name, topic: p.topic, partition: String(p.partition) }, p.lag);
    },
  });
  new Gauge({
    name: 'novacron_processor_parked_events',
    help: 'Events the processor could not apply, parked with their error.',
    labelNames: ['processor'] as const,
    registers: [registry],
    async collect() {
      for (const s of await statuses()) this.set({ processor: s.name }, s.parked);
    },
  });
  return { registry, events, fenced };
}


export async function startProcessors(config: Config, names: readonly string[], { log = consoleLog }: { log?: Log } = {}): Promise<RunningProcessors> {
  requireKafka(config, '--role processor');
  // Set below when NOVACRON_REDIS_URL is: the inventory's commits here then evict the API instances' L1 and the shared L2.
  let invalidate: (name: string, batch: readonly RecordedEvent[]) => void = () => undefined;
  const catalog = defaultCatalog();
  const keys = openKeyStore(config);
  // The gauges read the host's status when scraped, after it exists.
  const metrics = processorMetrics(() => host);
  const host = openKafkaProjections({
    config,
    projections: embeddedProjections.filter((p) => names.includes(p.name)),
    consume: names,
    catalog,
    codec: createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) }),
    clientId: 'novacron-processor',
    log,
    onCommit: (name, batch) => {
      metrics.events.inc({ processor: name }, batch.length);
      invalidate(name, batch);
    },
    onFenced: (name, error) => {
      metrics.fenced.inc({ processor: name });
      log.warn({ processor: name, err: error.message }, 'batch dropped: another instance applied its partition first');
    },
    onError: (name, error) => log.error({ processor: name, err: error instanceof Error ? error.message : String(error) }, 'processor error'),
  });
  const { registry } = metrics;
  const redis = config.redis.url !== undefined ? openRedisCache(config.redis, 'processor') : null;
  if (redis) {
    redis.useLog(log);
    invalidate = invalidateOnStreamCommit(redis.bus, INVENTORY);
    registerInvalidationMetrics(registry, redis.bus);
  }
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'Content-Type': type });
      response.end(body);
    };
    if (request.method !== 'GET') return answer(405, 'application/json', JSON.stringify({ error: { code: 'NC_ROUTE_NOT_FOUND', message: 'only GET /healthz and GET /metrics' } }));
    if (path === '/healthz') {
      // 503 while a processor has given up or fails attempt after attempt (the reason in its `error`), and while Kafka does not answer.
      host.status().then(
        (rows) => {
          const unhealthy = rows.some((r) => isUnhealthy(r));
          const status = unhealthy ? 'failing' : starting ? 'starting' : 'ok';
          answer(unhealthy ? 503 : 200, 'application/json', JSON.stringify({ status, processors: rows.map(({ name, state, generation, version, checkpoint, head, lag, parked, error, failures, assigned }) => ({ name, state, generation, version, checkpoint, head, lag, parked, error, failures, assigned })) }));
        },
        (error: unknown) => answer(503, 'application/json', JSON.stringify({ status: 'unavailable', error: error instanceof Error ? error.message : String(error) })),
      );
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => answer(200, registry.contentType, text),
        (error: unknown) => answer(503, 'text/plain', String(error)),
      );
      return;
    }
    answer(404, 'application/json', JSON.stringify({ error: { code: 'NC_ROUTE_NOT_FOUND', message: `no route ${path}: only GET /healthz and GET /metrics` } }));
  });
  // Listening first: /healthz answers while the consumers join their groups (seconds after a restart).
  let starting = true;
  try {
    const url = await listen(server, config.host, config.port);
    await host.start();
    starting = false;
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
            keys.close();
            await redis?.close();
          }
        })()),
    };
  } catch (error) {
    server.close();
    await host.stop().catch(() => undefined);
    keys.close();
    await redis?.close();
    throw error;
  }
}

/**
 * Runs the processors until SIGTERM or SIGINT: the batch in flight is
 * committed (or dropped, if fenced), the group is left, exit 0. A second
 * signal exits at once with 1.
 */
export async function runProcessorRole(config: Config, names: readonly string[], { say = (line: string) => console.log(line), log = consoleLog }: { say?: (line: string) => void; log?: Log } = {}): Promise<number> {
  // Listening before the start: joining the groups can take seconds, and a signal meanwhile still stops cleanly once started.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const running = await startProcessors(config, names, { log });
  // `novacron status` on this data dir asks this process for the processors it runs.
  const unannounce = announceServer(config.dataDir, { role: 'processor', url: running.url });
  say(`NovaCron processors ${names.join(', ')} consuming ${config.kafka.topicPrefix}.{tenant,vm,capacity}.events from Kafka ${config.kafka.brokers?.join(',')}`);
  say(`  projections  ${join(config.dataDir, 'projections')} (consumer groups novacron.processor.<name>.g<generation>)`);
  say(`  metrics      ${running.url}/metrics (novacron_processor_lag), status ${running.url}/healthz`);
  if (config.redis.url !== undefined) say(`  invalidations on Redis ${withoutCredentials(config.redis.url)}, channel ${config.redis.prefix}.invalidations (the inventory's commits)`);
  say('  stop         Ctrl-C or SIGTERM (the batch in flight is committed first)');
  const signal = await stopSignal;
  say(`${signal}: committing the batch in flight, then leaving the groups (send it again to exit at once)`);
  process.once(signal, () => process.exit(1));
  unannounce();
  try {
    await running.close();
    say('NovaCron processors stopped');
    return 0;
  } catch (error) {
    log.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
    return 1;
  }
}
