// The serde's check of a record's schema id against its headers, without a
// registry: the registry client is a stand-in that resolves ids from a map, and
// the subjects of an id come from a small local HTTP server.
import { createServer, type Server } from 'node:http';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../catalog/index.ts';
import type { RecordedEvent } from '../eventstore/index.ts';
import { isNovaCronError } from '../errors/index.ts';
import type { RegisteredSubject, RegistrySchemas } from './schemas.ts';
import { createEventSerde } from './serde.ts';
import { subjectOf, topicName } from './topics.ts';

const catalog = defaultCatalog();
const prefix = 'unit';
const vmTopic = topicName(prefix, 'vm');
/** Schema ids as a registry would hand them out. */
const ids: Record<string, number> = { VmStarted: 11, VmRestarted: 12, VmResizedV1: 13, VmResized: 14 };
const bySchemaId = new Map<number, { type: string; version: number }>([
  [11, { type: 'VmStarted', version: 1 }],
  [12, { type: 'VmRestarted', version: 1 }],
  [13, { type: 'VmResized', version: 1 }],
  [14, { type: 'VmResized', version: 2 }],
]);
const subjectsOf = (id: number): string[] => {
  const entry = bySchemaId.get(id);
  return entry === undefined ? [] : [subjectOf(vmTopic, entry.type)];
};

let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((request, response) => {
    const match = /^\/schemas\/ids\/(\d+)\/subjects$/.exec(request.url ?? '');
    if (match === null) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(subjectsOf(Number(match[1]))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function serde() {
  const registry = {
    getSchema: async (id: number) => {
      const entry = bySchemaId.get(id);
      if (entry === undefined) throw new Error(`Schema ${id} not found`);
      // As the registry client parses it: from the schema JSON the registry holds.
      return avsc.Type.forSchema(catalog.schema(entry.type, entry.version) as Parameters<typeof avsc.Type.forSchema>[0]);
    },
  } as unknown as SchemaRegistry;
  const schemas: RegistrySchemas = {
    registry,
    catalog,
    url,
    ensure: () => Promise.reject(new Error('not used')),
    idOf: async (_topic, type, version) => (type === 'VmResized' ? (version === 1 ? (ids['VmResizedV1'] as number) : (ids['VmResized'] as number)) : (ids[type] as number)),
    registerAll: async () => [] as RegisteredSubject[],
    verify: async () => undefined,
    verifyRecords: async () => undefined,
  };
  return createEventSerde({ schemas, topicPrefix: prefix });
}

const event = (type: string, data: Record<string, unknown>, schemaVersion = 1): RecordedEvent => ({
  streamId: 'vm-a',
  revision: 0,
  position: 1,
  type,
  data,
  metadata: { eventId: 'e1', tenantId: null, correlationId: 'c1', causationId: null, actor: 'system:test', occurredAt: '2026-01-01T00:00:00.000Z', schemaVersion },
  recordedAt: '2026-01-01T00:00:00.000Z',
});

const asMessage = (value: Buffer, headers: Record<string, string | undefined>) => ({
  value,
  headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Buffer.from(v as string)])),
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isNovaCronError(error)) throw new Error(`expected a NovaCronError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('serde: a record is decoded only when its schema id stands for the type its headers name', () => {
  const vm = { vmId: 'a', nodeId: 'n1' };

  it('decodes a record whose id resolves to its header type, on its topic', async () => {
    const s = serde();
    const record = await s.encode(event('VmStarted', vm));
    expect(record.value.readInt32BE(1)).toBe(ids['VmStarted']);
    const decoded = await s.decode(asMessage(record.value, record.headers), vmTopic);
    expect(decoded).toMatchObject({ type: 'VmStarted', data: vm });
  });

  it('refuses a VmRestarted body under a VmStarted header (the same shape): NC_SCHEMA_MISMATCH, not retriable', async () => {
    const s = serde();
    const restarted = await s.encode(event('VmRestarted', vm));
    const promise = s.decode(asMessage(restarted.value, { ...restarted.headers, type: 'VmStarted' }));
    const { code, message } = await refusal(promise);
    expect(code).toBe('NC_SCHEMA_MISMATCH');
    expect(message).toMatch(/type header VmStarted but schema id 12 resolves to novacron\.events\.VmRestarted/);
    expect(await promise.catch((e: { retriable?: boolean }) => e.retriable ?? false)).toBe(false);
  });

  it('refuses an id of the right name but another version than the schemaVersion header', async () => {
    const s = serde();
    const v2 = { vmId: 'a', from: { vcpus: 2, memoryMiB: 4096, diskGiB: 40 }, to: { vcpus: 4, memoryMiB: 8192, diskGiB: 40 }, quotaReservationId: null, capacityReservationId: null };
    const record = await s.encode(event('VmResized', v2, 2));
    expect(record.value.readInt32BE(1)).toBe(ids['VmResized']);
    const { code, message } = await refusal(s.decode(asMessage(record.value, { ...record.headers, schemaVersion: '1' })));
    expect(code).toBe('NC_SCHEMA_MISMATCH');
    expect(message).toMatch(/resolves to another schema than novacron\.events\.VmResized version 1/);
  });

  it("refuses a record read from a topic whose subject for its type does not hold the id", async () => {
    const s = serde();
    const record = await s.encode(event('VmStarted', vm));
    const other = topicName(prefix, 'capacity');
    const { code, message } = await refusal(s.decode(asMessage(record.value, record.headers), other));
    expect(code).toBe('NC_SCHEMA_MISMATCH');
    expect(message).toContain(`is not registered under the topic's subject ${subjectOf(other, 'VmStarted')}`);
  });

  it('encodes locally, the bytes a registry client would write, and refuses data that does not match the schema (NC_EVENT_INVALID)', async () => {
    const s = serde();
    const record = await s.encode(event('VmStarted', vm));
    expect(record.value.subarray(5)).toEqual(catalog.avroType('VmStarted').toBuffer(vm));
    const { code, message } = await refusal(s.encode(event('VmStarted', { vmId: 'a', nodeId: 7 })));
    expect(code).toBe('NC_EVENT_INVALID');
    expect(message).toContain('nodeId');
  });
});
