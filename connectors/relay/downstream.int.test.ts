// A downstream consumer with no NovaCron code (downstream-consumer.fixture.ts:
// plain kafkajs + @kafkajs/confluent-schema-registry) decodes every event type
// of the catalog that the relay published.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { samples } from '../../streams/catalog/fixtures.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { createKafkaClient, createRegistrySchemas, createSchemaRegistry, ensureTopics, TOPIC_EVENT_TYPES, TOPIC_KEYS, topicNames } from '../../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, uniquePrefix } from '../../streams/kafka/testing.ts';
import { consumeNovaCronEvents, type RefusedRecord } from './downstream-consumer.fixture.ts';
import { createRelay } from './relay.ts';

const infra = kafkaInfra();
const streamOf = { tenant: 'tenant-t1', vm: 'vm-vm1', capacity: 'node-n1' } as const;

describe.runIf(infra.run)('downstream consumers (Kafka + schema registry)', () => {
  it('decode every event type of the catalog with plain kafkajs and the registry client', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('downstream');
    const kafka = createKafkaClient({ brokers: infra.brokers() });
    await ensureTopics({ kafka, prefix, partitions: 3, replication: 1 });
    const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
    const store = createSqliteEventStore({ path: ':memory:', codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }), pollIntervalMs: 20 });
    for (const key of TOPIC_KEYS) {
      for (const type of TOPIC_EVENT_TYPES[key]) await store.append(streamOf[key], [{ type, data: samples[type as keyof typeof samples], metadata: { tenantId: 't1' } }]);
    }
    const total = defaultCatalog().types.length;
    const url = infra.registryUrl();
    const relay = createRelay({ store, kafka, schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() }), topicPrefix: prefix });
    await relay.start();

    const refused: RefusedRecord[] = [];
    const events = await consumeNovaCronEvents({ brokers: infra.brokers(), registryUrl: url, topics: topicNames(prefix), count: total, groupId: `${prefix}.downstream`, refused });
    await relay.stop();
    expect(refused).toEqual([]);
    expect(events.map((e) => e.type).sort()).toEqual([...defaultCatalog().types]);
    for (const e of events) {
      const sample = samples[e.type as keyof typeof samples] as Record<string, unknown>;
      const personal = defaultCatalog().personalFields(e.type);
      // What NovaCron recorded, field for field; personal fields arrive encrypted (the tenant's key never leaves NovaCron).
      const expected = Object.fromEntries(
        Object.entries(sample).map(([field, value]) => {
          if (personal.includes(field)) return [field, expect.stringMatching(/^ncpii:/)];
          if (personal.includes(`${field}[]`)) return [field, (value as string[]).map(() => expect.stringMatching(/^ncpii:/))];
          return [field, value];
        }),
      );
      expect(e.data, e.type).toEqual(expected);
      expect(e.key).toBe(e.streamId);
      expect(e).toMatchObject({ tenantId: 't1', schemaVersion: defaultCatalog().version(e.type) });
    }
    // Each stream's events, in one partition, in revision order.
    for (const streamId of Object.values(streamOf)) {
      const mine = events.filter((e) => e.streamId === streamId);
      expect(new Set(mine.map((e) => e.partition)).size).toBe(1);
      expect(mine.map((e) => e.revision)).toEqual(mine.map((_, i) => i));
    }
    await store.close();
    keys.close();
    await dropTopics(kafka, prefix);
  });
});
