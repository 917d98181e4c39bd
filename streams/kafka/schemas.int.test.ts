// Schema evolution on the registry: a change BACKWARD refuses stops with
// NC_SCHEMA_INCOMPATIBLE naming the schema; a compatible one (a new field with
// a default) is registered, and records written before it still decode.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSchemasDir, loadCatalog, type EventSchema } from '../catalog/index.ts';
import { isNovaCronError } from '../errors/index.ts';
import type { RecordedEvent } from '../eventstore/index.ts';
import { createSchemaRegistry } from './client.ts';
import { createRegistrySchemas } from './schemas.ts';
import { createEventSerde } from './serde.ts';
import { kafkaInfra, uniquePrefix } from './testing.ts';
import { subjectOf, topicName } from './topics.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-schemas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of schemas/avro where ClusterHealthReported gets version 2 with one more field (v1 kept in history/). */
function catalogWithNewField(name: string, field: Record<string, unknown>) {
  const copy = join(dir, name);
  cpSync(defaultSchemasDir, copy, { recursive: true });
  const file = join(copy, 'ClusterHealthReported.avsc');
  const v1 = JSON.parse(readFileSync(file, 'utf8')) as EventSchema;
  mkdirSync(join(copy, 'history'), { recursive: true });
  renameSync(file, join(copy, 'history', 'ClusterHealthReported.v1.avsc'));
  writeFileSync(file, JSON.stringify({ ...v1, version: 2, fields: [...v1.fields, field] }, null, 2));
  return loadCatalog(copy);
}

const event: RecordedEvent = {
  streamId: 'cluster-c1',
  revision: 0,
  position: 1,
  type: 'ClusterHealthReported',
  data: { clusterId: 'c1', regionId: 'eu-west', healthy: false, detail: '2 of 5 nodes unreachable' },
  metadata: { eventId: '0193a1f2-0000-7000-8000-00000000c001', tenantId: null, correlationId: 'c', causationId: null, actor: 'system:test', occurredAt: '2025-01-01T00:00:00.000Z', schemaVersion: 1 },
  recordedAt: '2025-01-01T00:00:00.001Z',
};
const received = (headers: Record<string, string | undefined>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v ?? '')]));

describe.runIf(infra.run)('schema evolution on the registry', () => {
  const schemasOf = (catalog: ReturnType<typeof loadCatalog>) => {
    const url = infra.registryUrl();
    return createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
  };

  it('refuses an incompatible change naming the schema; takes a compatible one, and old records still decode', async () => {
    const prefix = uniquePrefix('evolve');
    const topic = topicName(prefix, 'capacity');
    const subject = subjectOf(topic, 'ClusterHealthReported');

    // Today's schemas: a record is published with ClusterHealthReported v1.
    const today = createEventSerde({ schemas: schemasOf(loadCatalog()), topicPrefix: prefix });
    const old = await today.encode(event);

    // v2 adds a field without a default: data written with v1 cannot be read with it.
    const incompatible = schemasOf(catalogWithNewField('incompatible', { name: 'zone', type: 'string', doc: 'Availability zone.' }));
    let caught: unknown;
    try {
      await incompatible.ensure(topic, 'ClusterHealthReported');
    } catch (error) {
      caught = error;
    }
    expect(isNovaCronError(caught, 'NC_SCHEMA_INCOMPATIBLE')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('schema novacron.events.ClusterHealthReported version 2');
    expect(message).toContain('ClusterHealthReported.avsc');
    expect(message).toContain(`subject ${subject}`);
    expect(message).toContain('not BACKWARD compatible');
    expect((caught as { details: unknown }).details).toMatchObject({ type: 'ClusterHealthReported', version: 2, subject });
    expect((await (await fetch(`${infra.registryUrl()}/subjects/${encodeURIComponent(subject)}/versions`)).json()) as number[]).toHaveLength(1);

    // v2 adds a field with a default: registered after v1.
    const compatibleCatalog = catalogWithNewField('compatible', { name: 'zone', type: 'string', default: 'unknown', doc: 'Availability zone.' });
    const compatible = schemasOf(compatibleCatalog);
    const registered = await compatible.ensure(topic, 'ClusterHealthReported');
    expect([...registered.ids.keys()]).toEqual([1, 2]);
    expect((await (await fetch(`${infra.registryUrl()}/subjects/${encodeURIComponent(subject)}/versions`)).json()) as number[]).toHaveLength(2);

    // The record written before the change decodes into v2, the new field at its default.
    const next = createEventSerde({ schemas: compatible, topicPrefix: prefix });
    const decoded = await next.decode({ value: old.value, headers: received(old.headers) });
    expect(decoded.data).toEqual({ ...event.data, zone: 'unknown' });
    expect(decoded.metadata.schemaVersion).toBe(1);
    // And records written with v2 carry v2's schema id.
    const newer = await next.encode({ ...event, position: 2, revision: 1, data: { ...event.data, zone: 'z1' }, metadata: { ...event.metadata, schemaVersion: 2 } });
    expect(newer.value.readInt32BE(1)).toBe(registered.ids.get(2));
    expect((await next.decode({ value: newer.value, headers: received(newer.headers) })).data['zone']).toBe('z1');
  });
});
