// The Kafka serde against a real schema registry: every event type of the
// catalog as stored (personal fields encrypted) → Confluent wire format →
// back, through a registry client with an empty cache; and an event written
// with an old schema version, decoded with its writer schema and resolved to
// the current one.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../catalog/index.ts';
import { samples } from '../catalog/fixtures.ts';
import { createKeyStore, createPersonalDataCipher } from '../crypto/index.ts';
import type { EventCodec, RecordedEvent } from '../eventstore/index.ts';
import { createSqliteEventStore } from '../eventstore/sqlite/store.ts';
import { createSchemaRegistry } from './client.ts';
import { createRegistrySchemas } from './schemas.ts';
import { createEventSerde } from './serde.ts';
import { kafkaInfra, uniquePrefix } from './testing.ts';
import { subjectOf, TOPIC_EVENT_TYPES, TOPIC_KEYS, topicName } from './topics.ts';

const infra = kafkaInfra();
const plain = (e: RecordedEvent): RecordedEvent => JSON.parse(JSON.stringify(e)) as RecordedEvent;

const streamOf: Record<string, string> = { tenant: 'tenant-t1', vm: 'vm-vm1', capacity: 'node-n1' };

function openStore(codecOverride?: (real: EventCodec) => EventCodec) {
  const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
  const real = createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) });
  return { keys, store: createSqliteEventStore({ path: ':memory:', codec: codecOverride ? codecOverride(real) : real }) };
}

describe.runIf(infra.run)('Kafka serde (schema registry)', () => {
  const serdeFor = (prefix: string) => {
    const url = infra.registryUrl();
    return createEventSerde({ schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() }), topicPrefix: prefix });
  };

  it('encodes every event type as stored, keyed by stream, with its headers, and decodes it back', async () => {
    const prefix = uniquePrefix('serde');
    const { store, keys } = openStore();
    for (const key of TOPIC_KEYS) {
      for (const type of TOPIC_EVENT_TYPES[key]) {
        await store.append(streamOf[key] as string, [{ type, data: samples[type as keyof typeof samples], metadata: { tenantId: 't1', causationId: 'cause-1', actor: 'operator:test' } }]);
      }
    }
    const events = await store.readAll({ raw: true });
    expect(events).toHaveLength(defaultCatalog().types.length);

    const writer = serdeFor(prefix);
    const reader = serdeFor(prefix); // its registry client has no cache: writer schemas are fetched by id
    for (const event of events) {
      const encoded = await writer.encode(event);
      const topic = topicName(prefix, TOPIC_KEYS.find((k) => TOPIC_EVENT_TYPES[k].includes(event.type)) as 'vm');
      expect(encoded.topic).toBe(topic);
      expect(encoded.key).toBe(event.streamId);
      expect(encoded.value[0]).toBe(0); // magic byte
      const schemaId = encoded.value.readInt32BE(1);
      const subject = subjectOf(topic, event.type);
      const latest = (await (await fetch(`${infra.registryUrl()}/subjects/${encodeURIComponent(subject)}/versions/latest`)).json()) as { id: number };
      expect(schemaId).toBe(latest.id);
      expect(encoded.headers).toMatchObject({ eventId: event.metadata.eventId, type: event.type, position: String(event.position), streamId: event.streamId, revision: String(event.revision), tenantId: 't1' });
      expect(encoded.timestamp).toBe(String(Date.parse(event.recordedAt)));

      const headers = Object.fromEntries(Object.entries(encoded.headers).map(([k, v]) => [k, Buffer.from(v as string)]));
      expect(await reader.decode({ value: encoded.value, headers })).toEqual(plain(event));
    }

    // Personal data is on Kafka encrypted, exactly as stored.
    const created = events.find((e) => e.type === 'TenantCreated') as RecordedEvent;
    const value = (await writer.encode(created)).value.toString('latin1');
    expect(created.data['contactEmail']).toMatch(/^ncpii:/);
    expect(value).toContain(String(created.data['contactEmail']));
    expect(value).not.toContain(samples.TenantCreated.contactEmail);
    const vm = (await writer.encode(events.find((e) => e.type === 'VmCreated') as RecordedEvent)).value.toString('latin1');
    for (const secret of [...samples.VmCreated.sshPublicKeys, samples.VmCreated.userData ?? '']) expect(vm).not.toContain(secret);
    await store.close();
    keys.close();
  });

  it('encodes an event written with an old schema version with that version, and decodes it into the current one', async () => {
    const prefix = uniquePrefix('serde-v1');
    // An event recorded before VmResized v2 existed.
    const { store, keys } = openStore((real) => ({ encode: (type, data, tenantId) => (type === 'VmResized' ? { data: data as Record<string, unknown>, schemaVersion: 1 } : real.encode(type, data, tenantId)), decode: real.decode, seal: real.seal }));
    const v1 = { vmId: 'vm1', from: { vcpus: 2, memoryMiB: 4096, diskGiB: 40 }, to: { vcpus: 4, memoryMiB: 8192, diskGiB: 40 } };
    await store.append('vm-vm1', [{ type: 'VmResized', data: v1 }]);
    const [event] = await store.readAll({ raw: true });
    if (!event) throw new Error('no event');

    const serde = serdeFor(prefix);
    const encoded = await serde.encode(event);
    const subject = subjectOf(topicName(prefix, 'vm'), 'VmResized');
    const first = (await (await fetch(`${infra.registryUrl()}/subjects/${encodeURIComponent(subject)}/versions/1`)).json()) as { id: number };
    expect(encoded.value.readInt32BE(1)).toBe(first.id);

    const headers = Object.fromEntries(Object.entries(encoded.headers).map(([k, v]) => [k, Buffer.from(v as string)]));
    const decoded = await serdeFor(prefix).decode({ value: encoded.value, headers });
    expect(decoded.data).toEqual({ ...v1, quotaReservationId: null, capacityReservationId: null });
    expect(decoded.metadata.schemaVersion).toBe(1); // the version it was written with, as the event store reports it
    await store.close();
    keys.close();
  });
});
