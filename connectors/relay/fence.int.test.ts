// Transactions against a real broker: a relay session fences the one before it (a zombie
// producer with the relay's transactional.id, its transaction open: its records are aborted,
// its commit fails), and readTails finds the last committed record of partitions that end
// with transaction markers, aborted records, or a transaction still open.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Message } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { samples } from '../../streams/catalog/fixtures.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import type { NewEvent } from '../../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import {
  createEventSerde,
  createKafkaClient,
  createRegistrySchemas,
  createSchemaRegistry,
  ensureTopics,
  headerOf,
  partitionOf,
  readTails,
  topicNames,
} from '../../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, readCommitted, uniquePrefix, waitUntil } from '../../streams/kafka/testing.ts';
import { createRelay, relayTransactionalId } from './relay.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-fence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (type: keyof typeof samples): NewEvent => ({ type, data: samples[type], metadata: { tenantId: 't1', actor: 'operator:test' } });

async function offsetSpan(kafka: Kafka, topics: readonly string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  for (const topic of topics) for (const { high, low } of await admin.fetchTopicOffsets(topic)) total += Number(high) - Number(low);
  await admin.disconnect();
  return total;
}

describe.runIf(infra.run)('relay transactions (Kafka + schema registry)', () => {
  const kafka = () => createKafkaClient({ brokers: infra.brokers() });
  const schemasFor = () => {
    const url = infra.registryUrl();
    return createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() });
  };

  it('fences a zombie session: its open transaction is aborted, its commit fails, every event is in Kafka once, in revision order', { timeout: 150_000 }, async () => {
    const prefix = uniquePrefix('relay-fence');
    const partitions = 4;
    await ensureTopics({ kafka: kafka(), prefix, partitions, replication: 1 });
    const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
    const store = createSqliteEventStore({ path: join(dir, 'fence.db'), codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }), sync: 'normal', pollIntervalMs: 20 });
    const append = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await store.append(`vm-f${i % 37}`, [event(i % 2 === 0 ? 'VmStarted' : 'VmStopped')]);
    };
    await append(0, 100);
    const schemas = schemasFor();

    // A first relay publishes the first 100 events, and stops.
    const first = createRelay({ store, kafka: kafka(), schemas, topicPrefix: prefix, backoff: { initialMs: 50, maxMs: 200 } });
    await first.start();
    // 60 s: a session's start (connect, fence, schema registration, tails) took over 30 s once in CI,
    // with every integration suite running beside it on 2 cores.
    await waitUntil('the first 100 events', () => first.status(), (s) => s.published === 100, 60_000);
    await first.stop();

    // More events; a zombie session (the relay's transactional.id) begins a transaction and
    // sends events 101..300, exactly as the relay encodes them, and never commits: a session
    // that died, or lost its connection, mid-batch.
    await append(100, 300);
    const zombie = kafka().producer({ transactionalId: relayTransactionalId(prefix), idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    const open = await zombie.transaction();
    const serde = createEventSerde({ schemas, topicPrefix: prefix });
    const byTopic = new Map<string, Message[]>();
    for (const e of await store.readAll({ fromPosition: 101, maxCount: 200, raw: true })) {
      const record = await serde.encode(e);
      const list = byTopic.get(record.topic) ?? [];
      byTopic.set(record.topic, list);
      list.push({ key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp, partition: partitionOf(e.streamId, partitions) });
    }
    const before = await offsetSpan(kafka(), topicNames(prefix));
    await open.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), acks: -1 });
    // The zombie's records are in the log, uncommitted (a read_uncommitted reader would see them):
    // read_committed offsets (the last stable offset) stop before its open transaction.
    expect(await offsetSpan(kafka(), topicNames(prefix))).toBe(before);

    // The relay starts: it fences the zombie before reading the tails, and publishes the rest.
    // The zombie tries to commit at the worst moment: just as the relay starts reading the
    // tails (a late request landing then). Fenced before, the commit fails; were the tails read
    // first, it would succeed and events 101..300 would be in Kafka twice.
    await append(300, 500);
    const real = kafka();
    let zombieCommit = null as Promise<unknown> | null; // set in a callback: no narrowing to null
    const hooked = {
      admin: (...args: Parameters<Kafka['admin']>) => real.admin(...args),
      producer: (...args: Parameters<Kafka['producer']>) => real.producer(...args),
      consumer: (...args: Parameters<Kafka['consumer']>) => {
        const consumer = real.consumer(...args);
        if (zombieCommit === null && args[0].groupId.startsWith(`${prefix}.relay.tails`)) {
          const connect = consumer.connect.bind(consumer);
          consumer.connect = async () => {
            zombieCommit = open.commit().then(
              () => 'committed',
              (error: unknown) => error,
            );
            await zombieCommit;
            return connect();
          };
        }
        return consumer;
      },
    } as unknown as Kafka;
    const relay = createRelay({ store, kafka: hooked, schemas, topicPrefix: prefix, backoff: { initialMs: 50, maxMs: 200 } });
    await relay.start();
    const status = await waitUntil('all 500 events', () => relay.status(), (s) => s.published === 500, 30_000);
    expect(status.lastError).toBeNull();
    // Events appended while it runs go out too, after the fence.
    await append(500, 600);
    await waitUntil('all 600 events', () => relay.status(), (s) => s.published === 600, 30_000);

    // The zombie is fenced: its commit failed, and its records stay aborted.
    expect(zombieCommit).not.toBeNull();
    const outcome = await zombieCommit;
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/epoch|fenced/i);
    await zombie.disconnect();
    await relay.stop();

    const records = await readCommitted(kafka(), topicNames(prefix));
    const positions = records.map((r) => Number(headerOf(r.message.headers, 'position')));
    expect(records).toHaveLength(600);
    expect(new Set(positions).size).toBe(600);
    expect(Math.min(...positions)).toBe(1);
    expect(Math.max(...positions)).toBe(600);
    const stored = await store.readAll({ raw: true, maxCount: 1000 });
    const next = new Map<string, number>();
    const outOfOrder: string[] = [];
    for (const r of [...records].sort((a, b) => Number(a.message.offset) - Number(b.message.offset))) {
      const position = Number(headerOf(r.message.headers, 'position'));
      const original = stored[position - 1];
      expect(r.partition).toBe(partitionOf(original?.streamId ?? '', partitions));
      const streamId = r.message.key?.toString() ?? '';
      const revision = Number(headerOf(r.message.headers, 'revision'));
      expect(streamId).toBe(original?.streamId);
      expect(revision).toBe(original?.revision);
      if (revision !== (next.get(streamId) ?? 0)) outOfOrder.push(`${streamId}@${revision}`);
      next.set(streamId, revision + 1);
    }
    expect(outOfOrder).toEqual([]);
    // The aborted records are still in the log, under the markers: offsets span more than the events.
    expect(await offsetSpan(kafka(), topicNames(prefix))).toBeGreaterThan(600 + 200);

    await store.close();
    keys.close();
    await dropTopics(kafka(), prefix);
  });

  it('readTails finds the last committed record behind markers and aborted records, and past a transaction still open', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('tails-tx');
    await ensureTopics({ kafka: kafka(), prefix, partitions: 1, replication: 1 });
    const [committedTopic, abortedOnlyTopic, emptyTopic] = topicNames(prefix) as [string, string, string];
    const record = (position: number): Message => ({ key: 'vm-x', value: Buffer.from('x'), partition: 0, headers: { position: String(position), eventId: `e${position}` } });
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => record(from + i));
    const producer = kafka().producer({ transactionalId: `${prefix}.writer`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const inTransaction = async (topic: string, messages: Message[], end: 'commit' | 'abort') => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages, acks: -1 });
      await (end === 'commit' ? tx.commit() : tx.abort());
    };
    // committedTopic: 1..3 committed (offsets 0..2, marker 3), then 4..150 and 151..160 aborted
    // (more than the first windows), each followed by its abort marker.
    await inTransaction(committedTopic, range(1, 3), 'commit');
    await inTransaction(committedTopic, range(4, 150), 'abort');
    await inTransaction(committedTopic, range(151, 160), 'abort');
    // abortedOnlyTopic: nothing committed.
    await inTransaction(abortedOnlyTopic, range(1, 20), 'abort');

    const tails = await readTails(kafka(), [committedTopic, abortedOnlyTopic, emptyTopic], { window: 4, timeoutMs: 30_000 });
    const of = (topic: string) => tails.find((t) => t.topic === topic);
    expect(of(committedTopic)).toMatchObject({ partition: 0, low: 0, last: { offset: 2, position: 3, eventId: 'e3' } });
    expect(of(committedTopic)?.high).toBeGreaterThan(160);
    expect(of(abortedOnlyTopic)).toMatchObject({ low: 0, last: null });
    expect(of(abortedOnlyTopic)?.high).toBeGreaterThan(20);
    expect(of(emptyTopic)).toMatchObject({ low: 0, high: 0, last: null });

    // The default window too; and a transaction still open at the end (another writer, as when
    // `novacron kafka status` runs beside the relay): its records are not read, nor waited for.
    const other = kafka().producer({ transactionalId: `${prefix}.other`, idempotent: true, maxInFlightRequests: 1 });
    await other.connect();
    await inTransaction(committedTopic, range(161, 162), 'commit');
    const open = await other.transaction();
    await open.send({ topic: committedTopic, messages: range(163, 170), acks: -1 });
    // A commit returns before its markers are written (the relay itself fences first, which waits
    // for them); a reader that does not fence may see the last stable offset a moment behind.
    const again = await waitUntil('the commit markers of 161..162', () => readTails(kafka(), [committedTopic], { timeoutMs: 30_000 }), (t) => t[0]?.last?.position === 162, 10_000);
    expect(again[0]?.last).toMatchObject({ position: 162, eventId: 'e162' });
    await open.abort();
    await other.disconnect();
    await producer.disconnect();
    await dropTopics(kafka(), prefix);
  });
});
