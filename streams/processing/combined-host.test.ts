import type { Kafka } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openTempEventStore } from '../eventstore/sqlite/testing.ts';
import { combineProjectionHosts } from './combined-host.ts';
import { createProjectionHost } from './host.ts';
import type { KafkaEventDecoder } from './kafka/decoder.ts';
import { createKafkaProjectionHost } from './kafka/host.ts';
import { ledgerProjection } from './kafka/testing.ts';

const health = { type: 'ClusterHealthReported', data: { clusterId: 'c', regionId: 'r', healthy: true, detail: null } };
const embeddedLedger = { ...ledgerProjection(['ClusterHealthReported']), name: 'embedded-ledger' };
const kafkaLedger = { ...ledgerProjection(['ClusterHealthReported']), name: 'kafka-ledger' };
const unusedDecoder = {} as KafkaEventDecoder;

let dir: string;
let store: EventStore;
let close: () => Promise<void>;
beforeEach(() => ({ dir, store, close } = openTempEventStore('combined')));
afterEach(() => close());

describe('projection hosts combined by name', () => {
  it('answers each projection from its host: embedded ones by position, Kafka-fed ones by stream revision', async () => {
    const embedded = createProjectionHost({ dir, source: store, projections: [embeddedLedger], sync: 'normal' });
    const fromKafka = createKafkaProjectionHost({ dir, projections: [kafkaLedger], consume: [], kafka: {} as Kafka, topicPrefix: 'p', decoder: unusedDecoder, source: store, sync: 'normal' });
    const host = combineProjectionHosts([embedded, fromKafka]);
    expect(host.names).toEqual(['embedded-ledger', 'kafka-ledger']);
    expect([host.ordering('embedded-ledger'), host.ordering('kafka-ledger')]).toEqual(['global', 'per-stream']);
    await host.start();

    await store.append('cluster-c', [health, health]);
    // The embedded host resolves a stream revision to its position in the log.
    expect(await host.waitForStream('embedded-ledger', 'cluster-c', 1, 5_000)).toBe(true);
    expect(host.queries<{ rows(): number }>('embedded-ledger').rows()).toBe(1);
    expect(await host.waitForStream('embedded-ledger', 'cluster-c', 2, 0)).toBe(false); // not in the log
    // No processor feeds kafka-ledger here: the wait runs out.
    expect(await host.waitForStream('kafka-ledger', 'cluster-c', 1, 30)).toBe(false);
    expect(() => host.queries('nope')).toThrow(/unknown projection "nope"/);
    expect(() => combineProjectionHosts([embedded, embedded])).toThrow(/is in two hosts/);
    await host.stop();
  });
});
