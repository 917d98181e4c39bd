// A processor fed records whose schema id does not stand for the type in their
// `type` header (VmStarted and VmRestarted share a shape, so such a record would
// decode "cleanly" as the wrong event): on a real broker and schema registry, the
// Kafka-fed processor parks each of them with its reason and applies the rest.
//
//   eval "$(infra/local/up)"; npx vitest run streams/processing/kafka/schema-mismatch.int.test.ts
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import type { RecordedEvent } from '../../eventstore/index.ts';
import { createSqliteEventStore } from '../../eventstore/sqlite/store.ts';
import { createEventSerde, createKafkaClient, createRegistrySchemas, createSchemaRegistry, ensureTopics, type EncodedEvent } from '../../kafka/index.ts';
import { dropTopics, kafkaInfra, uniquePrefix, waitUntil } from '../../kafka/testing.ts';
import { createKafkaEventDecoder } from './decoder.ts';
import { createKafkaProjectionHost } from './host.ts';
import { ledgerProjection } from './testing.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-schema-mismatch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(infra.run)('a Kafka-fed processor checks each record against its type header (Kafka + schema registry)', () => {
  it('parks a record whose schema id resolves to another type, or is not under its topic subject, and applies the others', { timeout: 120_000 }, async () => {
    const prefix = uniquePrefix('mismatch');
    const catalog = defaultCatalog();
    const url = infra.registryUrl();
    const kafka = createKafkaClient({ brokers: infra.brokers(), clientId: 'novacron-mismatch-test' });
    await ensureTopics({ kafka, prefix, partitions: 2, replication: 1 });
    const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
    const codec = createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) });
    const store = createSqliteEventStore({ path: ':memory:', codec });
    const schemas = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
    const serde = createEventSerde({ schemas, topicPrefix: prefix });
    const projectionsDir = join(dir, 'projections');
    const host = createKafkaProjectionHost({
      dir: projectionsDir,
      projections: [ledgerProjection(catalog.types)],
      consume: ['ledger'],
      kafka,
      topicPrefix: prefix,
      groupPrefix: `${prefix}.processor`,
      // A registry client of its own: what it knows of each id comes from the registry, not from the writer's cache.
      decoder: createKafkaEventDecoder({ serde: createEventSerde({ schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog }), topicPrefix: prefix }), codec, catalog }),
      sync: 'normal',
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    try {
      const vm = { vmId: 'a', nodeId: 'n1' };
      await store.append('vm-a', [
        { type: 'VmStarted', data: vm },
        { type: 'VmRestarted', data: vm },
        { type: 'VmStarted', data: vm },
        { type: 'VmRestarted', data: vm },
      ]);
      await store.append('tenant-t1', [{ type: 'TenantSuspended', data: { tenantId: 't1', reason: 'billing' } }]);
      const events = await store.readAll({ raw: true });
      const encoded = await Promise.all(events.map((e) => serde.encode(e)));
      const [started, restarted, started2, restarted2, suspended] = encoded as [EncodedEvent, EncodedEvent, EncodedEvent, EncodedEvent, EncodedEvent];
      const idOf = (record: EncodedEvent) => record.value.readInt32BE(1);
      expect(idOf(started)).not.toBe(idOf(restarted));

      // Revision 1 carries VmRestarted's id and body under a VmStarted header; revision 2 a VmStarted body under a
      // VmRestarted header; and a tenant event's record put on the vm topic under a vm stream's headers.
      const forged: EncodedEvent[] = [
        started,
        { ...restarted, headers: { ...restarted.headers, type: 'VmStarted' } },
        { ...started2, headers: { ...started2.headers, type: 'VmRestarted' } },
        restarted2,
        { ...restarted2, value: suspended.value, headers: { ...restarted2.headers, type: 'TenantSuspended', revision: '4', position: '99', eventId: 'forged-tenant-on-vm-topic' } },
        suspended,
      ];
      await producer.connect();
      for (const record of forged) {
        await producer.send({ topic: record.topic, acks: -1, messages: [{ key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp }] });
      }

      await host.start();
      const [status] = await waitUntil('the processor to reach lag 0', () => host.status(), (s) => s.every((p) => p.lag === 0 && p.head > 0), 90_000);
      expect(status).toMatchObject({ name: 'ledger', parked: 3, lag: 0 });

      const file = new Database(join(projectionsDir, 'ledger.g1.db'), { readonly: true });
      const parked = file.prepare<[], { stream_id: string; revision: number; type: string; error: string }>('SELECT stream_id, revision, type, error FROM parked_events ORDER BY revision').all();
      const ledger = file.prepare<[], { stream_id: string; events: number; last_revision: number }>('SELECT stream_id, events, last_revision FROM ledger ORDER BY stream_id').all();
      file.close();
      expect(parked.map(({ stream_id, revision, type }) => ({ stream_id, revision, type }))).toEqual([
        { stream_id: 'vm-a', revision: 1, type: 'VmStarted' },
        { stream_id: 'vm-a', revision: 2, type: 'VmRestarted' },
        { stream_id: 'vm-a', revision: 4, type: 'TenantSuspended' },
      ]);
      expect(parked[0]?.error).toMatch(/type header VmStarted but schema id \d+ resolves to novacron\.events\.VmRestarted/);
      expect(parked[1]?.error).toMatch(/type header VmRestarted but schema id \d+ resolves to novacron\.events\.VmStarted/);
      expect(parked[2]?.error).toMatch(/is not registered under the topic's subject .*\.vm\.events-novacron\.events\.TenantSuspended/);
      // Applied: vm-a's revisions 0 and 3, and the tenant event on its own topic; nothing of the forged records.
      expect(ledger).toEqual([
        { stream_id: 'tenant-t1', events: 1, last_revision: 0 },
        { stream_id: 'vm-a', events: 2, last_revision: 3 },
      ]);
      expect(events.map((e: RecordedEvent) => e.type)).toEqual(['VmStarted', 'VmRestarted', 'VmStarted', 'VmRestarted', 'TenantSuspended']);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await host.stop();
      await store.close();
      keys.close();
      await dropTopics(kafka, prefix).catch(() => undefined);
    }
  });
});
