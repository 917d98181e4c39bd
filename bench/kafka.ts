/**
 * npm run bench:kafka — needs Kafka and the schema registry
 * (`eval "$(infra/local/up)"`: NOVACRON_KAFKA_BROKERS, NOVACRON_SCHEMA_REGISTRY_URL).
 *
 * 1. The relay publishing a generated log of BENCH_EVENTS events (default
 *    100,000; bench/fleet-log.ts) from an embedded SQLite event store, from
 *    position 0 until all are acknowledged: relayEventsPerSec from its first
 *    batch acknowledged to its last (relayWithStartEventsPerSec: from start()).
 * 2. Reference, in the same run: a raw kafkajs idempotent producer (acks -1,
 *    the relay's batch sizes, one batch in flight) sending the same records
 *    (keys, Avro values and headers encoded once up front, not timed) to a
 *    second fresh set of topics with as many partitions: rawProducerPerSec from
 *    its first request acknowledged to its last; ratio = relay / raw.
 * 3. Latency append → projection over Kafka: the relay running live and a
 *    Kafka-fed routing-table processor; BENCH_SAMPLES (default 300) single
 *    ClusterHealthReported appends, one at a time, each timed from the
 *    append's acknowledgement to the processor having applied its revision.
 *
 * Every run uses fresh random topic prefixes (deleted afterwards) and a temp
 * data dir. The last line printed is a JSON object of the figures.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Message } from 'kafkajs';
import { createRelay } from '../connectors/relay/relay.ts';
import { createRoutingProjection } from '../projections/routing/index.ts';
import { createEventCodec, defaultCatalog } from '../streams/catalog/index.ts';
import { samples } from '../streams/catalog/fixtures.ts';
import { createKeyStore, createPersonalDataCipher } from '../streams/crypto/index.ts';
import { createSqliteEventStore } from '../streams/eventstore/sqlite/store.ts';
import {
  DEFAULT_PARTITIONS,
  createEventSerde,
  createKafkaClient,
  createRegistrySchemas,
  createSchemaRegistry,
  ensureTopics,
  partitionOf,
  type EncodedEvent,
} from '../streams/kafka/index.ts';
import { createKafkaEventDecoder } from '../streams/processing/kafka/decoder.ts';
import { createKafkaProjectionHost } from '../streams/processing/kafka/host.ts';
import { dropTopics } from '../streams/kafka/testing.ts';
import { writeFleetLog } from './fleet-log.ts';

const need = (name: string): string => {
  const value = process.env[name]?.trim();
  if (!value) {
    console.error(`bench:kafka needs ${name}: start the services and set the variables with  eval "$(infra/local/up)"`);
    process.exit(2);
  }
  return value;
};
const brokers = need('NOVACRON_KAFKA_BROKERS').split(',').map((b) => b.trim());
const url = need('NOVACRON_SCHEMA_REGISTRY_URL').replace(/\/+$/, '');

const events = Number(process.env.BENCH_EVENTS ?? 100_000);
const samplesWanted = Number(process.env.BENCH_SAMPLES ?? 300);
const partitions = Number(process.env.BENCH_PARTITIONS ?? DEFAULT_PARTITIONS);
// The relay's defaults (connectors/relay/relay.ts), used by the raw reference too.
const MAX_BATCH = 2000;
const MAX_BATCH_BYTES = 1024 * 1024;

const run = `bench.kafka.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
const relayPrefix = `${run}.relay`;
const rawPrefix = `${run}.raw`;
const latencyPrefix = `${run}.latency`;
const dir = mkdtempSync(join(tmpdir(), 'novacron-bench-kafka-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 600_000, intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`bench:kafka: timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}


const kafka = createKafkaClient({ brokers, clientId: 'novacron-bench-kafka' });
const catalog = defaultCatalog();
const schemas = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
const codec = createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) });
const closers: Array<() => Promise<unknown>> = [];

try {
  for (const prefix of [relayPrefix, rawPrefix, latencyPrefix]) await ensureTopics({ kafka, prefix, partitions, replication: 1 });
  console.log(`topics: ${run}.{relay,raw,latency}.*, ${partitions} partitions each`);

  // 1. The relay, from position 0, over a generated log.
  const store = createSqliteEventStore({ path: join(dir, 'events.db'), codec, sync: 'normal' });
  closers.push(() => store.close());
  let started = performance.now();
  const written = await writeLog();
  console.log(`log: ${written.toLocaleString('en-US')} events written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const head = await store.headPosition();

  // Steady rate: from the first batch acknowledged to the last, as for the raw producer below
  // (whose timer starts once connected, its records encoded). The rate including the relay's start
  // (connecting, fencing, registering the schemas, reading the tails) is printed beside it.
  let firstBatch: { at: number; published: number } | undefined;
  let lastBatchAt = 0;
  const relay = createRelay({
    store,
    kafka,
    schemas,
    topicPrefix: relayPrefix,
    maxBatch: MAX_BATCH,
    maxBatchBytes: MAX_BATCH_BYTES,
    backoff: { initialMs: 100, maxMs: 1000 },
    onBatch: (report) => {
      lastBatchAt = performance.now();
      firstBatch ??= { at: lastBatchAt, published: report.published };
    },
  });
  started = performance.now();
  await relay.start();
  await until('the relay to publish the log', async () => {
    const s = await relay.status();
    if (s.state === 'failed') throw new Error(`the relay failed: ${JSON.stringify(s.lastError)}`);
    return s.published >= head;
  });
  const relaySeconds = (performance.now() - started) / 1000;
  const relayStatus = await relay.status();
  await relay.stop();
  const relayWithStartEventsPerSec = head / relaySeconds;
  if (firstBatch === undefined || lastBatchAt <= firstBatch.at) throw new Error('bench:kafka: the relay sent fewer than two batches; raise BENCH_EVENTS');
  const relayEventsPerSec = (head - firstBatch.published) / ((lastBatchAt - firstBatch.at) / 1000);
  console.log(`relay (store → Kafka, from position 0)         : ${fmt(relayEventsPerSec)} events/s from its first batch acknowledged to its last; ${fmt(relayWithStartEventsPerSec)} events/s counting its start (${head} events in ${relaySeconds.toFixed(2)} s, ${relayStatus.batches} batches, ${((firstBatch.at - started) / 1000).toFixed(2)} s to the first batch)`);

  // 2. Raw kafkajs producer, the same records, encoded up front (not timed).
  const serde = createEventSerde({ schemas, topicPrefix: rawPrefix });
  await schemas.registerAll(rawPrefix);
  const encoded: Array<{ record: EncodedEvent; partition: number }> = [];
  for (let from = 1; from <= head; ) {
    const page = await store.readAll({ fromPosition: from, maxCount: 4096, raw: true });
    if (page.length === 0) break;
    for (const event of page) encoded.push({ record: await serde.encode(event), partition: partitionOf(event.streamId, partitions) });
    from = (page.at(-1)?.position ?? head) + 1;
  }
  if (encoded.length !== head) throw new Error(`bench:kafka: read ${encoded.length} events back, expected ${head}`);
  // Batches as the relay cuts them: at most MAX_BATCH events, sent in chunks of about MAX_BATCH_BYTES.
  const chunks: Array<Array<{ record: EncodedEvent; partition: number }>> = [];
  for (let i = 0; i < encoded.length; i += MAX_BATCH) {
    let chunk: typeof encoded = [];
    let bytes = 0;
    for (const item of encoded.slice(i, i + MAX_BATCH)) {
      chunk.push(item);
      bytes += item.record.value.length + item.record.key.length + 400;
      if (bytes >= MAX_BATCH_BYTES) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
    }
    if (chunk.length > 0) chunks.push(chunk);
  }
  const requests = chunks.map((chunk) => {
    const byTopic = new Map<string, Message[]>();
    for (const { record, partition } of chunk) {
      let messages = byTopic.get(record.topic);
      if (messages === undefined) byTopic.set(record.topic, (messages = []));
      messages.push({ key: record.key, value: record.value, partition, headers: record.headers, timestamp: record.timestamp });
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  started = performance.now();
  let rawFirst: { at: number; sent: number } | undefined;
  for (const topicMessages of requests) {
    await producer.sendBatch({ topicMessages, acks: -1, timeout: 30_000 });
    rawFirst ??= { at: performance.now(), sent: topicMessages.reduce((n, t) => n + t.messages.length, 0) };
  }
  const rawEnd = performance.now();
  const rawSeconds = (rawEnd - started) / 1000;
  await producer.disconnect();
  if (rawFirst === undefined || rawEnd <= rawFirst.at) throw new Error('bench:kafka: the raw producer sent fewer than two requests; raise BENCH_EVENTS');
  const rawProducerPerSec = (encoded.length - rawFirst.sent) / ((rawEnd - rawFirst.at) / 1000);
  const ratio = relayEventsPerSec / rawProducerPerSec;
  const ratioWithStart = relayWithStartEventsPerSec / (encoded.length / rawSeconds);
  console.log(`raw kafkajs idempotent producer (pre-encoded)  : ${fmt(rawProducerPerSec)} events/s from its first request acknowledged to its last (${requests.length} requests in ${rawSeconds.toFixed(2)} s)`);
  console.log(`relay / raw                                    : ${(ratio * 100).toFixed(0)}% (counting the relay's start: ${(ratioWithStart * 100).toFixed(0)}%)`);

  // 3. Latency: append acknowledged → applied by a Kafka-fed processor, the relay live.
  const live = createSqliteEventStore({ path: join(dir, 'latency.db'), codec, sync: 'normal' });
  closers.push(() => live.close());
  const liveRelay = createRelay({ store: live, kafka, schemas, topicPrefix: latencyPrefix, backoff: { initialMs: 100, maxMs: 1000 } });
  const host = createKafkaProjectionHost({
    dir: join(dir, 'projections'),
    projections: [createRoutingProjection()],
    consume: ['routing-table'],
    kafka,
    topicPrefix: latencyPrefix,
    groupPrefix: `${latencyPrefix}.processor`,
    decoder: createKafkaEventDecoder({ serde: createEventSerde({ schemas, topicPrefix: latencyPrefix }), codec, catalog }),
    source: live,
    sync: 'normal',
    waitIntervalMs: 1,
  });
  closers.push(() => host.stop());
  closers.push(() => liveRelay.stop());
  await liveRelay.start();
  await host.start();
  await until('the processor to get its partitions', async () => (await host.status()).every((s) => s.assigned.length > 0), 60_000, 50);
  const meta = { metadata: { tenantId: null, actor: 'operator:bench' } };
  await live.append('region-eu-west', [{ type: 'RegionAdded', data: { ...samples.RegionAdded, regionId: 'eu-west' }, ...meta }]);
  const joined = await live.append('cluster-c1', [{ type: 'ClusterJoined', data: { clusterId: 'c1', regionId: 'eu-west' }, ...meta }]);
  if (!(await host.waitForStream('routing-table', 'cluster-c1', joined.revision, 60_000))) throw new Error('bench:kafka: the processor did not apply the seed events');
  const latencies: number[] = [];
  for (let i = 0; i < samplesWanted; i++) {
    const appended = await live.append('cluster-c1', [{ type: 'ClusterHealthReported', data: { clusterId: 'c1', regionId: 'eu-west', healthy: i % 2 === 0, detail: null }, ...meta }]);
    const acked = performance.now();
    if (!(await host.waitForStream('routing-table', 'cluster-c1', appended.revision, 30_000))) throw new Error(`bench:kafka: sample ${i} not applied within 30 s`);
    latencies.push(performance.now() - acked);
    await sleep(5);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] as number;
  const e2eP50Ms = pct(50);
  const e2eP99Ms = pct(99);
  console.log(
    `append → routing-table over Kafka (relay live) : p50 ${e2eP50Ms.toFixed(1)} ms, p99 ${e2eP99Ms.toFixed(1)} ms, max ${(latencies.at(-1) as number).toFixed(1)} ms (${latencies.length} samples)`,
  );

  console.log(
    JSON.stringify({
      events: head,
      partitions,
      relayEventsPerSec: Math.round(relayEventsPerSec),
      rawProducerPerSec: Math.round(rawProducerPerSec),
      ratio: Number(ratio.toFixed(3)),
      relayWithStartEventsPerSec: Math.round(relayWithStartEventsPerSec),
      ratioWithStart: Number(ratioWithStart.toFixed(3)),
      e2eP50Ms: Number(e2eP50Ms.toFixed(1)),
      e2eP99Ms: Number(e2eP99Ms.toFixed(1)),
      e2eSamples: latencies.length,
    }),
  );

  async function writeLog(): Promise<number> {
    const n = await writeFleetLog(store, {
      events,
      onProgress: (done) => {
        if (process.stderr.isTTY) process.stderr.write(`\rwriting the log: ${done}/${events}`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    return n;
  }
} finally {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  keys.close();
  for (const prefix of [relayPrefix, rawPrefix, latencyPrefix]) await dropTopics(kafka, prefix).catch((error: unknown) => console.error(`could not delete the topics of ${prefix}: ${String(error)}`));
  rmSync(dir, { recursive: true, force: true });
}
