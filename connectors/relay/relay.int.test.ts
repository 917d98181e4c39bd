// The relay in process, against a real broker and registry: what it publishes,
// its status and metrics, a clean restart, and the errors it stops on.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { samples } from '../../streams/catalog/fixtures.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { isTraceparent, type EventStore, type NewEvent } from '../../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { createKafkaClient, createRegistrySchemas, createSchemaRegistry, ensureTopics, headerOf, partitionOf, topicNames } from '../../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, readCommitted, uniquePrefix, waitUntil } from '../../streams/kafka/testing.ts';
import { registerRelayMetrics } from './metrics.ts';
import { createRelay, type Relay } from './relay.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-relay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openStore(name: string) {
  const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
  const store = createSqliteEventStore({ path: join(dir, `${name}.db`), codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }), sync: 'normal', pollIntervalMs: 20 });
  return { store, close: async () => { await store.close(); keys.close(); } };
}

const event = (type: keyof typeof samples, tenantId: string | null = 't1'): NewEvent => ({ type, data: samples[type], metadata: { tenantId, actor: 'operator:test' } });

/** Every record of the topics, read from the start until `count` arrived. */
async function consumeAll(kafka: Kafka, topics: string[], count: number): Promise<{ topic: string; partition: number; message: KafkaMessage }[]> {
  const records: { topic: string; partition: number; message: KafkaMessage }[] = [];
  const consumer = kafka.consumer({ groupId: `verify.${randomBytes(6).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        records.push({ topic, partition, message });
        if (records.length >= count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return records;
}

/** Committed records in the topics (offsets count transaction markers and aborted records too). */
async function recordCount(kafka: Kafka, prefix: string): Promise<number> {
  return (await readCommitted(kafka, topicNames(prefix))).length;
}

describe.runIf(infra.run)('relay (Kafka + schema registry)', () => {
  const kafka = () => createKafkaClient({ brokers: infra.brokers() });
  const relayFor = (store: EventStore, prefix: string, extra: { lockPath?: string } = {}): Relay => {
    const url = infra.registryUrl();
    return createRelay({ store, kafka: kafka(), schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() }), topicPrefix: prefix, backoff: { initialMs: 50, maxMs: 200 }, ...extra });
  };

  it('publishes every event to its topic and partition, keyed by stream, with headers, personal data encrypted; lag reaches 0', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('relay');
    await ensureTopics({ kafka: kafka(), prefix, partitions: 4, replication: 1 });
    const { store, close } = openStore('publish');
    await store.append('tenant-t1', [event('TenantCreated'), event('TenantQuotaChanged')]);
    await store.append('vm-vm1', [event('VmCreated'), event('VmStarted'), event('VmStopped')]);
    await store.append('node-n1', [event('NodeRegistered', null), event('NodeCordoned', null)]);
    await store.append('region-eu-west', [event('RegionAdded', null)]);
    await store.append('forecast-eu-west', [event('CapacityShortfallForecast', null)]);
    const relay = relayFor(store, prefix);
    const registry = new Registry();
    registerRelayMetrics(registry, relay);
    await relay.start();
    await store.append('vm-vm1', [event('VmStarted')]); // live, after the start
    const status = await waitUntil('lag 0', () => relay.status(), (s) => s.state === 'running' && s.published === 10);
    expect(status).toMatchObject({ published: 10, head: 10, lag: 0, resumes: 1, lastError: null });
    expect(status.sent).toEqual({ [`${prefix}.tenant.events`]: 2, [`${prefix}.vm.events`]: 4, [`${prefix}.capacity.events`]: 4 });
    const metrics = await registry.metrics();
    expect(metrics).toContain('novacron_relay_lag_events 0');
    expect(metrics).toContain('novacron_relay_published_position 10');
    expect(metrics).toContain('novacron_relay_up 1');
    expect(metrics).toContain(`novacron_relay_events_total{topic="${prefix}.vm.events"} 4`);

    const records = await consumeAll(kafka(), topicNames(prefix), 10);
    const stored = await store.readAll({ raw: true });
    for (const { topic, partition, message } of records) {
      const position = Number(headerOf(message.headers, 'position'));
      const original = stored[position - 1];
      expect(message.key?.toString()).toBe(original?.streamId);
      expect(partition).toBe(partitionOf(original?.streamId ?? '', 4));
      expect(topic.endsWith(original?.streamId.startsWith('tenant') ? '.tenant.events' : original?.streamId.startsWith('vm') ? '.vm.events' : '.capacity.events')).toBe(true);
      expect(headerOf(message.headers, 'eventId')).toBe(original?.metadata.eventId);
      // Every event has a W3C trace context, and its record carries it.
      expect(isTraceparent(original?.metadata.traceparent)).toBe(true);
      expect(headerOf(message.headers, 'traceparent')).toBe(original?.metadata.traceparent);
      expect(message.timestamp).toBe(String(Date.parse(original?.recordedAt ?? '')));
      const value = message.value?.toString('latin1') ?? '';
      expect(value).not.toContain(samples.TenantCreated.contactEmail);
      for (const key of samples.VmCreated.sshPublicKeys) expect(value).not.toContain(key);
    }
    expect(records.map((r) => Number(headerOf(r.message.headers, 'position'))).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));

    // Stopped, more events, started again (a new relay, as after a restart): only the new ones go out.
    await relay.stop();
    expect((await relay.status()).state).toBe('stopped');
    await store.append('cluster-c1', [event('ClusterJoined', null), event('ClusterHealthReported', null)]);
    const again = relayFor(store, prefix);
    await again.start();
    await waitUntil('the new events', () => again.status(), (s) => s.published === 12);
    await again.stop();
    // The relay counts a record published when its transaction commits; a broker may show it to a
    // read_committed reader a moment later: wait for both, then check nothing came twice.
    await waitUntil('the new records readable', () => recordCount(kafka(), prefix), (n) => n >= 12);
    expect(await recordCount(kafka(), prefix)).toBe(12);
    await close();
    await dropTopics(kafka(), prefix);
  });

  it('completes a batch that failed after only some partitions took their part, without duplicates (a send failing mid-batch)', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('relay-partial');
    const partitions = 4;
    await ensureTopics({ kafka: kafka(), prefix, partitions, replication: 1 });
    const { store, close } = openStore('partial');
    const total = 3000;
    for (let i = 0; i < total; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => store.append(`vm-p${(i + j) % 97}`, [event('VmStarted')])));
    }
    // A producer whose second send of each of the first three sessions writes only the even
    // partitions' part of the batch to the real broker, then fails, as a request to several
    // brokers can half succeed. The relay treats it as a crash: the batch's transaction is
    // aborted (its half is never visible to read_committed readers) and it resumes from Kafka.
    const real = kafka();
    let injected = 0;
    const faulty = {
      admin: (...args: Parameters<Kafka['admin']>) => real.admin(...args),
      consumer: (...args: Parameters<Kafka['consumer']>) => real.consumer(...args),
      producer: (...args: Parameters<Kafka['producer']>) => {
        const producer = real.producer(...args);
        const transaction = producer.transaction.bind(producer);
        let calls = 0;
        producer.transaction = async () => {
          const tx = await transaction();
          const sendBatch = tx.sendBatch.bind(tx);
          tx.sendBatch = async (batch) => {
            if (++calls === 2 && injected < 3) {
              injected++;
              await sendBatch({ ...batch, topicMessages: batch.topicMessages?.map((t) => ({ topic: t.topic, messages: t.messages.filter((m) => (m.partition ?? 0) % 2 === 0) })) });
              throw Object.assign(new Error('injected: the request to the odd partitions\' leader failed'), { retriable: true });
            }
            return sendBatch(batch);
          };
          return tx;
        };
        return producer;
      },
    } as unknown as Kafka;
    const url = infra.registryUrl();
    const relay = createRelay({ store, kafka: faulty, schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() }), topicPrefix: prefix, maxBatch: 200, backoff: { initialMs: 20, maxMs: 50 } });
    await relay.start();
    const status = await waitUntil('everything published', () => relay.status(), (s) => s.published === total);
    await relay.stop();
    expect(injected).toBe(3);
    expect(status.resumes).toBe(4);
    expect(await recordCount(kafka(), prefix)).toBe(total);
    const records = await consumeAll(kafka(), topicNames(prefix), total);
    const positions = records.map((r) => Number(headerOf(r.message.headers, 'position')));
    expect(new Set(positions).size).toBe(total);
    const byPartition = new Map<number, { offset: number; position: number }[]>();
    for (const r of records) {
      let list = byPartition.get(r.partition);
      if (list === undefined) byPartition.set(r.partition, (list = []));
      list.push({ offset: Number(r.message.offset), position: Number(headerOf(r.message.headers, 'position')) });
    }
    for (const list of byPartition.values()) {
      const byOffset = list.sort((a, b) => a.offset - b.offset).map((r) => r.position);
      expect(byOffset).toEqual([...byOffset].sort((a, b) => a - b));
    }
    await close();
    await dropTopics(kafka(), prefix);
  });

  it('stops (state failed, no retry) on topics that belong to another event store: NC_RELAY_DIVERGED', async () => {
    const prefix = uniquePrefix('relay-diverged');
    await ensureTopics({ kafka: kafka(), prefix, partitions: 2, replication: 1 });
    const first = openStore('diverged-a');
    await first.store.append('vm-vm1', [event('VmStarted'), event('VmStopped')]);
    const relay = relayFor(first.store, prefix);
    await relay.start();
    await waitUntil('publishing', () => relay.status(), (s) => s.published === 2);
    await relay.stop();

    const other = openStore('diverged-b');
    await other.store.append('vm-vm9', [event('VmStarted'), event('VmStopped'), event('VmStarted')]);
    let failure: unknown;
    const wrong = createRelay({ store: other.store, kafka: kafka(), schemas: createRegistrySchemas({ registry: createSchemaRegistry(infra.registryUrl()), url: infra.registryUrl(), catalog: defaultCatalog() }), topicPrefix: prefix, onFailed: (error) => (failure = error) });
    await wrong.start();
    const status = await waitUntil('the relay to fail', () => wrong.status(), (s) => s.state === 'failed');
    expect(status.lastError?.code).toBe('NC_RELAY_DIVERGED');
    expect(isNovaCronError(failure, 'NC_RELAY_DIVERGED')).toBe(true);
    expect((failure as Error).message).toContain('position 2');
    await wrong.stop();
    expect(await recordCount(kafka(), prefix)).toBe(2);
    await first.close();
    await other.close();
    await dropTopics(kafka(), prefix);
  });

  it('stops on missing topics, saying to run novacron kafka init; a second relay on the same lock is NC_RELAY_RUNNING', async () => {
    const prefix = uniquePrefix('relay-missing');
    const { store, close } = openStore('missing');
    const lockPath = join(dir, 'missing.lock');
    const relay = relayFor(store, prefix, { lockPath });
    await relay.start();
    await expect(relayFor(store, prefix, { lockPath }).start()).rejects.toMatchObject({ code: 'NC_RELAY_RUNNING' });
    const status = await waitUntil('the relay to fail', () => relay.status(), (s) => s.state === 'failed');
    expect(status.lastError).toMatchObject({ code: 'NC_KAFKA_TOPIC_MISMATCH' });
    expect(status.lastError?.message).toContain('run `novacron kafka init` first');
    await relay.stop();
    await close();
  });
});
