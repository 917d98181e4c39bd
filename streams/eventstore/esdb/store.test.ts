// The EventStoreDB adapter without a server: the contract suite against an
// in-memory model of ESDB (fake-client.fixture.ts), and the cases where the
// adapter has to make up for ESDB. store.int.test.ts runs the same contract
// against a real server when NOVACRON_ESDB_URL is set.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import { clusterHealth, sameEvents, tenantCreated, uniqueStream } from '../contract/fixtures.ts';
import { eventStoreContract } from '../contract/suite.ts';
import { createFakeEsdb, FakeEsdbError } from './fake-client.fixture.ts';
import { ESDB_CAPABILITIES } from './capabilities.ts';
import { snapshotStreamOf } from './filter.ts';
import { createEsdbEventStore } from './store.ts';

const URL = 'esdb://fake:2113?tls=false';

eventStoreContract('EventStoreDB adapter on an in-memory model of ESDB', {
  open: async (codec) => createEsdbEventStore({ connectionString: URL, codec, client: createFakeEsdb().client }),
  capabilities: ESDB_CAPABILITIES,
});

const codec = () =>
  createEventCodec({
    catalog: defaultCatalog(),
    cipher: createPersonalDataCipher(createKeyStore({ path: ':memory:', masterKey: randomBytes(32) })),
  });

describe('EventStoreDB adapter specifics (model)', () => {
  it('positions are log offsets: strictly increasing, with gaps, equal to what ESDB reports', async () => {
    const fake = createFakeEsdb();
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: fake.client });
    const stream = uniqueStream('cluster');
    const result = await store.append(stream, [clusterHealth('a', true), clusterHealth('b', true)]);
    const events = await store.readStream(stream);
    const offsets = fake.log.filter((r) => r.streamId === stream).map((r) => Number(r.position));
    expect(events.map((e) => e.position)).toEqual(offsets);
    expect(result.position).toBe(offsets[1]);
    expect((offsets[1] as number) - (offsets[0] as number)).toBeGreaterThan(1);
    expect(await store.headPosition()).toBe(offsets[1]);
  });

  it('a retried `any` append found in the stream tail is answered without a write', async () => {
    const fake = createFakeEsdb();
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: fake.client });
    const stream = uniqueStream('cluster');
    const events = [clusterHealth('a', true)];
    const first = await store.append(stream, events, { expectedRevision: 'any' });
    const appends = fake.appends;
    expect(await store.append(stream, sameEvents(events), { expectedRevision: 'any' })).toEqual(first);
    expect(fake.appends).toBe(appends);
    // An exact expectation goes to ESDB, which recognises the ids at that revision.
    expect(await store.append(stream, sameEvents(events), { expectedRevision: 'no_stream' })).toEqual(first);
    expect(fake.appends).toBe(appends + 1);
  });

  it('a timed-out append is retried, and the retry finds the first write instead of writing again', async () => {
    let dropAnswer = true;
    const fake = createFakeEsdb({
      beforeAppend: () => {
        if (dropAnswer) {
          dropAnswer = false;
          throw new FakeEsdbError('deadline-exceeded', 'deadline exceeded');
        }
      },
    });
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: fake.client });
    const stream = uniqueStream('cluster');
    const result = await store.append(stream, [clusterHealth('a', true)], { expectedRevision: 'no_stream' });
    expect(result.revision).toBe(0);
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('without the tail check, ESDB alone stores ids sent again mixed with a new one (what the check prevents)', async () => {
    const fake = createFakeEsdb();
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: fake.client, idempotencyWindow: 0 });
    const stream = uniqueStream('cluster');
    const events = [clusterHealth('a', true)];
    await store.append(stream, events);
    await store.append(stream, [clusterHealth('new', true), ...sameEvents(events)]);
    expect(await store.readStream(stream)).toHaveLength(3);
  });

  it('ESDB refuses `exists` on a soft-deleted stream as "deleted"; the port calls it a revision conflict', async () => {
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: createFakeEsdb().client });
    const stream = uniqueStream('cluster');
    await store.append(stream, [clusterHealth('a', true)]);
    await store.deleteStream(stream);
    await expect(store.append(stream, [clusterHealth('b', true)], { expectedRevision: 'exists' })).rejects.toMatchObject({
      code: 'NC_REVISION_CONFLICT',
      actualRevision: 'no_stream',
    });
  });

  it('reads of the global log never show system or snapshot streams', async () => {
    const fake = createFakeEsdb();
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: fake.client });
    const stream = uniqueStream('cluster');
    await store.append(stream, Array.from({ length: 3 }, () => clusterHealth('s', true)));
    await store.setStreamMetadata(stream, { maxCount: 10 });
    await store.writeSnapshot(stream, { revision: 2, version: 1, state: { n: 3 } });
    expect(fake.log.some((r) => r.streamId === snapshotStreamOf(stream))).toBe(true);
    expect(fake.log.some((r) => r.streamId === `$$${stream}`)).toBe(true);
    const all = await store.readAll();
    expect(all.map((e) => e.streamId)).toEqual([stream, stream, stream]);
    expect(await store.readSnapshot(stream)).toEqual({ revision: 2, version: 1, state: { n: 3 } });
    await expect(store.append(snapshotStreamOf(stream), [clusterHealth('x', true)])).rejects.toMatchObject({ code: 'NC_STREAM_ID_INVALID' });
  });

  it('keeps personal data encrypted in what ESDB stores, and our metadata plus $correlationId', async () => {
    const fake = createFakeEsdb();
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: fake.client });
    await store.append('tenant-pii', [tenantCreated('pii', 'carol@example.com')]);
    const [record] = fake.log.filter((r) => r.streamId === 'tenant-pii');
    expect(JSON.stringify(record?.data)).not.toContain('carol@example.com');
    expect(JSON.stringify(record?.data)).toContain('ncpii:');
    expect(record?.metadata).toMatchObject({ tenantId: 'pii', schemaVersion: 1, $correlationId: expect.any(String) });
    const [read] = await store.readStream('tenant-pii');
    expect(read?.data.contactEmail).toBe('carol@example.com');
    expect(read?.metadata).not.toHaveProperty('$correlationId');
  });

  it('rejects bad input before any call to the server', async () => {
    const fake = createFakeEsdb();
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: fake.client });
    await expect(store.append('cluster-a b', [clusterHealth('c', true)])).rejects.toMatchObject({ code: 'NC_STREAM_ID_INVALID' });
    await expect(store.append(uniqueStream('cluster'), [{ type: 'Nope', data: {} }])).rejects.toMatchObject({ code: 'NC_EVENT_TYPE_UNKNOWN' });
    await expect(store.readAll({ filter: { categories: ['bad-category'] } })).rejects.toMatchObject({ code: 'NC_VALIDATION' });
    expect(fake.appends).toBe(0);
    expect(fake.log).toHaveLength(0);
  });

  it('with the real client and no server, calls fail as a retriable NC_STORE_UNAVAILABLE', async () => {
    // Port 1 on the loopback: nothing listens there.
    const store = createEsdbEventStore({ connectionString: 'esdb://127.0.0.1:1?tls=false', codec: codec(), appendAttempts: 2 });
    try {
      await expect(store.headPosition()).rejects.toMatchObject({ code: 'NC_STORE_UNAVAILABLE', retriable: true });
      await expect(store.append(uniqueStream('cluster'), [clusterHealth('a', true)])).rejects.toMatchObject({ code: 'NC_STORE_UNAVAILABLE', retriable: true });
    } finally {
      await store.close();
    }
  });

  it('refuses calls after close with a retriable error, and validates its options', async () => {
    const store = createEsdbEventStore({ connectionString: URL, codec: codec(), client: createFakeEsdb().client });
    await store.close();
    await expect(store.headPosition()).rejects.toMatchObject({ code: 'NC_STORE_CLOSED', retriable: true });
    expect(() => createEsdbEventStore({ connectionString: 'http://x', codec: codec() })).toThrow(/connectionString/);
    expect(() => createEsdbEventStore({ connectionString: URL, codec: codec(), idempotencyWindow: -1 })).toThrow(/idempotencyWindow/);
  });
});
