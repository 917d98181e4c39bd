import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../catalog/index.ts';
import { isNovaCronError } from '../../errors/index.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { openTempEventStore } from '../../eventstore/sqlite/testing.ts';
import { openSqliteStateStore } from '../sqlite-state.ts';
import type { KafkaEventDecoder } from './decoder.ts';
import { createKafkaProjectionHost } from './host.ts';
import { openKafkaStateStore } from './state.ts';
import { ledgerProjection } from './testing.ts';

// Nothing here talks to Kafka: a host that consumes nothing only reads the projection files,
// which a processor in another process writes (here: a second connection to the same file).
const noKafka = {} as Kafka;
const noDecoder: KafkaEventDecoder = {
  typeOf: () => undefined,
  event: () => Promise.reject(new Error('not used')),
  envelope: () => {
    throw new Error('not used');
  },
};
const catalog = defaultCatalog();
const ledger = ledgerProjection(catalog.types.filter((t) => t.startsWith('Cluster')));
const health = { type: 'ClusterHealthReported', data: { clusterId: 'c', regionId: 'r', healthy: true, detail: null } };

let dir: string;
let store: EventStore;
let close: () => Promise<void>;
beforeEach(() => ({ dir, store, close } = openTempEventStore('kafka-host')));
afterEach(() => close());

const reader = () =>
  createKafkaProjectionHost({ dir, projections: [ledger], consume: [], kafka: noKafka, topicPrefix: 'p', decoder: noDecoder, source: store, sync: 'normal', waitIntervalMs: 5 });

describe('Kafka projection host, reading what processors elsewhere write', () => {
  it('a session wait polls the file until another process commits the stream revision', async () => {
    const host = reader();
    const processor = openKafkaStateStore({ path: join(dir, 'ledger.g1.db'), migrate: ledger.migrate, sync: 'normal' });
    await store.append('cluster-c1', [health, health, health]);
    const events = await store.readStream('cluster-c1');
    expect(host.ordering('ledger')).toBe('per-stream');

    const waiting = host.waitForStream('ledger', 'cluster-c1', 2, 5_000);
    const started = performance.now();
    setTimeout(() => processor.commit({ topic: 'p.capacity.events', partition: 0, expected: -1, offset: 2, events, work: (db) => ledger.apply(events, db) }), 50);
    expect(await waiting).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(host.queries<{ rows(): number }>('ledger').rows()).toBe(1);
    expect(host.checkpoint('ledger')).toBe(3);

    // By position: the event store says which stream and revision it is.
    expect(await host.waitFor('ledger', (events[1] as RecordedEvent).position, 100)).toBe(true);
    const later = await store.append('cluster-c1', [health]);
    expect(await host.waitFor('ledger', later.position, 30)).toBe(false);
    expect(await host.waitForStream('ledger', 'cluster-c1', 3, 30)).toBe(false);
    // A stream on none of its topics changes nothing it shows: nothing to wait for.
    expect(await host.waitForStream('ledger', 'tenant-acme', 7, 0)).toBe(true);
    await processor.close();
    await host.stop();
  });

  it('refuses to consume a generation the embedded runner built from the log', async () => {
    const embedded = openSqliteStateStore({ path: join(dir, 'ledger.g1.db'), migrate: ledger.migrate });
    await embedded.commit(5, () => undefined);
    await embedded.close();
    const host = createKafkaProjectionHost({ dir, projections: [ledger], consume: ['ledger'], kafka: noKafka, topicPrefix: 'p', decoder: noDecoder, sync: 'normal' });
    await expect(host.start()).rejects.toThrow(/built by the embedded runner from the event store's log/);
    await host.stop();
  });

  it('names unknown projections', () => {
    expect(() => createKafkaProjectionHost({ dir, projections: [ledger], consume: ['nope'], kafka: noKafka, topicPrefix: 'p', decoder: noDecoder })).toThrow(/unknown projection "nope"/);
  });
});

describe('Kafka projection host with the brokers unreachable', () => {
  it('status rejects with NC_KAFKA_UNAVAILABLE (a 503, with its reason) within its bound, not a bare error', async () => {
    // Port 1 on loopback: nothing listens, every connection is refused.
    const unreachable = new Kafka({ clientId: 'test', brokers: ['127.0.0.1:1'], connectionTimeout: 200, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
    const host = createKafkaProjectionHost({ dir, projections: [ledger], consume: [], kafka: unreachable, topicPrefix: 'p', decoder: noDecoder, source: store, sync: 'normal', statusTimeoutMs: 2_000 });
    const started = performance.now();
    const error = await host.status().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isNovaCronError(error, 'NC_KAFKA_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/Kafka did not answer the processors' lag request/);
    expect((error as { status: number }).status).toBe(503);
    expect(performance.now() - started).toBeLessThan(5_000);
    await host.stop();
  });
});
