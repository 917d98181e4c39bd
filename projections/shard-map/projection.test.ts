import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import type { EventStore, NewEvent } from '../../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { createProjectionHost, type ProjectionHost } from '../../streams/processing/host.ts';
import { createRing, shardLoad } from './model/index.ts';
import { createShardMapProjection, SHARD_MAP } from './projection.ts';
import type { ShardMapQueries } from './queries.ts';
import { createRingCache, type RingCache } from './ring-cache.ts';

// ── events ──────────────────────────────────────────────────────────────────
type Given = [streamId: string, event: NewEvent];
const regionAdded = (regionId: string, shards?: number): Given => [
  `region-${regionId}`,
  { type: 'RegionAdded', data: { regionId, name: regionId, lat: 50, lon: 8, complianceZone: 'eu', costPerVcpuHour: 0.05, ...(shards === undefined ? {} : { shards }) } },
];
const shardsChanged = (regionId: string, shards: number): Given => [`region-${regionId}`, { type: 'RegionUpdated', data: { regionId, shards } }];
const vmCreated = (vmId: string, regionId: string, tenantId = 'acme'): Given => [
  `vm-${vmId}`,
  {
    type: 'VmCreated',
    data: {
      vmId,
      tenantId,
      name: vmId,
      spec: { vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12' },
      regionId,
      clusterId: null,
      nodeId: `${regionId}-n1`,
      quotaReservationId: `q-${vmId}`,
      capacityReservationId: `c-${vmId}`,
    },
    metadata: { tenantId },
  },
];
const migration = (vmId: string, migrationId: string, targetRegionId: string): Given => [
  `vm-${vmId}`,
  {
    type: 'VmMigrationStarted',
    data: { vmId, migrationId, kind: 'live', sourceNodeId: 'src', targetNodeId: `${targetRegionId}-n1`, targetRegionId, capacityReservationId: `m-${migrationId}` },
  },
];
const migrated = (vmId: string, migrationId: string): Given => [
  `vm-${vmId}`,
  { type: 'VmMigrationCompleted', data: { vmId, migrationId, sourceNodeId: 'src', targetNodeId: 'dst' } },
];
const migrationFailed = (vmId: string, migrationId: string): Given => [
  `vm-${vmId}`,
  { type: 'VmMigrationFailed', data: { vmId, migrationId, sourceNodeId: 'src', targetNodeId: 'dst', reason: 'link down' } },
];
const vmDeleted = (vmId: string): Given => [`vm-${vmId}`, { type: 'VmDeleted', data: { vmId, tenantId: 'acme', nodeId: 'n' } }];

// ── a store and a host on a temporary dir ───────────────────────────────────
let dir: string;
let store: EventStore;
let host: ProjectionHost | null;
let cache: RingCache;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-shard-map-'));
  store = createSqliteEventStore({
    path: join(dir, 'events.db'),
    codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(createKeyStore({ path: ':memory:', masterKey: randomBytes(32) })) }),
    sync: 'normal',
  });
  host = null;
});
afterEach(async () => {
  await host?.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A host as a fresh process would open it: its own ring cache. */
async function openHost(): Promise<ProjectionHost> {
  cache = createRingCache();
  const opened = createProjectionHost({ dir: join(dir, 'projections'), source: store, projections: [createShardMapProjection({ cache })], sync: 'normal' });
  await opened.start();
  return opened;
}

async function given(...events: Given[]): Promise<ShardMapQueries> {
  let position = 0;
  for (const [streamId, event] of events) position = (await store.append(streamId, [event])).position;
  host ??= await openHost();
  expect(await host.waitFor(SHARD_MAP, position, 10_000)).toBe(true);
  return host.queries<ShardMapQueries>(SHARD_MAP);
}

const vmIds = (n: number, prefix = 'vm') => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
/** Each VM's primary shard, by id. */
const shardsOf = async (q: ShardMapQueries, ids: readonly string[]) =>
  new Map(await Promise.all(ids.map(async (id) => [id, (await q.lookup(id))!.shard] as const)));

describe('shard-map: placing VMs', () => {
  it('given a region and VMs, each VM sits on the shard its region ring gives it, with 2 distinct replicas clockwise', async () => {
    const ids = vmIds(50);
    const q = await given(regionAdded('eu-west', 16), ...ids.map((id) => vmCreated(id, 'eu-west')));
    const ring = createRing({ regionId: 'eu-west', shards: 16 });
    for (const id of ids) {
      const answer = await q.lookup(id);
      expect(answer).toEqual({ key: id, region: 'eu-west', ...ring.lookup(id), source: 'vm', tenantId: 'acme' });
      expect(new Set([answer!.shard, ...answer!.replicas]).size).toBe(3);
    }
    const load = q.shards('eu-west')!;
    expect(load.map((s) => s.shard)).toEqual([...Array(16).keys()]);
    expect(sum(load.map((s) => s.vms))).toBe(50);
    expect(sum(load.map((s) => s.ringFraction))).toBeCloseTo(1, 9);
    expect(load.map((s) => s.ringFraction)).toEqual(shardLoad(ring));
    expect(q.region('eu-west')).toEqual({ regionId: 'eu-west', shards: 16, virtualNodes: 1000, replicationFactor: 3 });
  });

  it('gives a region 100 shards unless its RegionAdded says otherwise', async () => {
    const q = await given(regionAdded('us-east'));
    expect(q.region('us-east')?.shards).toBe(100);
    expect(q.shards('us-east')).toHaveLength(100);
  });

  it('hashes any other key on the ring of the region given; without a region only VM ids are known', async () => {
    const q = await given(regionAdded('eu-west', 8), regionAdded('us-east', 8), vmCreated('vm-1', 'eu-west'));
    expect(await q.lookup('session:42', { regionId: 'us-east' })).toEqual({
      key: 'session:42',
      region: 'us-east',
      ...createRing({ regionId: 'us-east', shards: 8 }).lookup('session:42'),
      source: 'ring',
      tenantId: null,
    });
    expect(await q.lookup('session:42')).toBeNull();
    expect(await q.lookup('session:42', { regionId: 'nowhere' })).toBeNull();
    // A VM asked on its own region: its stored placement; on another region's ring: hashed there.
    expect((await q.lookup('vm-1', { regionId: 'eu-west' }))?.source).toBe('vm');
    expect(await q.lookup('vm-1', { regionId: 'us-east' })).toMatchObject({ region: 'us-east', source: 'ring', ...createRing({ regionId: 'us-east', shards: 8 }).lookup('vm-1') });
  });

  it('moves a VM to its migration target region when the migration completes, and not when it fails', async () => {
    const q = await given(
      regionAdded('eu-west', 8),
      regionAdded('us-east', 12),
      vmCreated('vm-a', 'eu-west'),
      vmCreated('vm-b', 'eu-west'),
      migration('vm-a', 'm1', 'us-east'),
      migration('vm-b', 'm2', 'us-east'),
    );
    // In flight: still where it was.
    expect((await q.lookup('vm-a'))?.region).toBe('eu-west');
    const q2 = await given(migrated('vm-a', 'm1'), migrationFailed('vm-b', 'm2'));
    expect(await q2.lookup('vm-a')).toMatchObject({ region: 'us-east', source: 'vm', ...createRing({ regionId: 'us-east', shards: 12 }).lookup('vm-a') });
    expect(await q2.lookup('vm-b')).toMatchObject({ region: 'eu-west', ...createRing({ regionId: 'eu-west', shards: 8 }).lookup('vm-b') });
    expect(sum(q2.shards('eu-west')!.map((s) => s.vms))).toBe(1);
    expect(sum(q2.shards('us-east')!.map((s) => s.vms))).toBe(1);
  });

  it('forgets a deleted VM and takes it off its shard\'s load', async () => {
    const q = await given(regionAdded('eu-west', 4), vmCreated('vm-a', 'eu-west'), vmCreated('vm-b', 'eu-west'), vmDeleted('vm-a'));
    expect(await q.lookup('vm-a')).toBeNull();
    expect(sum(q.shards('eu-west')!.map((s) => s.vms))).toBe(1);
  });

  it('builds each region\'s ring once, and again only when its shard count changes', async () => {
    await given(regionAdded('eu-west', 20), ...vmIds(200).map((id) => vmCreated(id, 'eu-west')));
    expect(cache.builds).toBe(1);
    await given(shardsChanged('eu-west', 22), vmCreated('late', 'eu-west'));
    expect(cache.builds).toBe(2);
  });
});

describe('shard-map: rings are built before the apply, off the event loop', () => {
  it('prepares every ring the apply asks for: new regions, shard changes, a region first met through a VM or a migration', async () => {
    await given(regionAdded('eu-west', 20), ...vmIds(30).map((id) => vmCreated(id, 'eu-west')), vmCreated('stray', 'ap-south'));
    await given(shardsChanged('eu-west', 25), migration('vm-0001', 'm1', 'us-east'));
    await given(migrated('vm-0001', 'm1'), regionAdded('sa-east', 7), shardsChanged('sa-east', 5));
    expect(cache.builds).toBe(6); // eu-west 20, 25; ap-south 100; us-east 100; sa-east 7, 5
    expect(cache.loopBuilds).toBe(0);
    expect(cache.ring({ regionId: 'us-east', shards: 100, virtualNodes: 1000, replicationFactor: 3 }).shards).toBe(100);
  });

  it('builds in the worker a ring a lookup needs that is not in memory (after a restart)', async () => {
    await given(regionAdded('eu-west', 40));
    await host!.stop();
    host = await openHost();
    expect(cache.builds).toBe(0);
    const q = host.queries<ShardMapQueries>(SHARD_MAP);
    const [a, b] = await Promise.all([q.lookup('session:1', { regionId: 'eu-west' }), q.lookup('session:2', { regionId: 'eu-west' })]);
    const ring = createRing({ regionId: 'eu-west', shards: 40 });
    expect([a, b]).toMatchObject([ring.lookup('session:1'), ring.lookup('session:2')]);
    expect(cache.builds).toBe(1);
    expect(cache.loopBuilds).toBe(0);
  });
});

describe('shard-map: a shard-count change', () => {
  it('records a plan whose moved keys are exactly the VMs whose primary shard changed', async () => {
    const ids = vmIds(1500);
    const q = await given(regionAdded('eu-west', 20), ...ids.map((id) => vmCreated(id, 'eu-west')));
    const before = await shardsOf(q, ids);

    const after = await given(shardsChanged('eu-west', 23));
    const afterShards = await shardsOf(after, ids);
    const moved = ids.filter((id) => afterShards.get(id) !== before.get(id)).sort();
    expect(moved.length).toBeGreaterThan(0);

    const [plan, ...older] = after.plans('eu-west', { moves: Infinity, movedKeys: Infinity });
    expect(older).toEqual([]);
    expect(plan).toMatchObject({ regionId: 'eu-west', fromShards: 20, toShards: 23, vms: 1500, movedVms: moved.length });
    expect(plan!.movedKeys.map((k) => k.key)).toEqual(moved);
    for (const k of plan!.movedKeys) {
      expect(k.from).toBe(before.get(k.key));
      expect(k.to).toBe(afterShards.get(k.key));
    }
    // Growing moves keys only onto the new shards, exactly the share of the ring they now own.
    const newRing = createRing({ regionId: 'eu-west', shards: 23 });
    expect(plan!.moves.every((m) => m.to >= 20)).toBe(true);
    expect(plan!.movedFraction).toBeCloseTo(sum(shardLoad(newRing).slice(20)), 9);
    expect(sum(plan!.moves.map((m) => m.fraction))).toBeCloseTo(plan!.movedFraction, 9);
    expect(sum(plan!.moves.map((m) => m.vms))).toBe(moved.length);
    // The keys that actually moved agree with the analysis within sampling error (1500 keys: σ ≈ 0.008).
    expect(Math.abs(moved.length / ids.length - plan!.movedFraction)).toBeLessThan(0.04);
    // Loads follow the VMs.
    const load = after.shards('eu-west')!;
    expect(load).toHaveLength(23);
    for (const { shard, vms } of load) expect(vms).toBe(ids.filter((id) => afterShards.get(id) === shard).length);
  });

  it('records nothing when the shard count stays the same, and a plan for shrinking too', async () => {
    const ids = vmIds(300);
    const q = await given(regionAdded('eu-west', 10), ...ids.map((id) => vmCreated(id, 'eu-west')), shardsChanged('eu-west', 10));
    expect(q.plans('eu-west')).toEqual([]);
    const after = await given(shardsChanged('eu-west', 9));
    const [plan] = after.plans('eu-west', { movedKeys: Infinity });
    expect(plan).toMatchObject({ fromShards: 10, toShards: 9 });
    expect(plan!.movedKeys.every((k) => k.from === 9)).toBe(true);
    expect(after.shards('eu-west')).toHaveLength(9);
    expect(sum(after.shards('eu-west')!.map((s) => s.vms))).toBe(300);
  });
});

describe('shard-map: rebuilding', () => {
  it('answers the same after a restart on the same dir and after a replay', async () => {
    const ids = vmIds(400);
    const history: Given[] = [
      regionAdded('eu-west', 30),
      regionAdded('us-east'),
      ...ids.map((id, i) => vmCreated(id, i % 3 === 0 ? 'us-east' : 'eu-west', i % 2 === 0 ? 'acme' : 'globex')),
      shardsChanged('eu-west', 34),
      migration('vm-0001', 'm1', 'us-east'),
      migrated('vm-0001', 'm1'),
      migration('vm-0002', 'm2', 'us-east'),
      migrationFailed('vm-0002', 'm2'),
      vmDeleted('vm-0004'),
      shardsChanged('us-east', 97),
      migration('vm-0005', 'm3', 'us-east'),
    ];
    const answers = async (q: ShardMapQueries) => ({
      vms: await Promise.all(ids.map((id) => q.lookup(id))),
      others: await Promise.all(['a', 'session:1', 'tenant/acme'].flatMap((key) => ['eu-west', 'us-east'].map((regionId) => q.lookup(key, { regionId })))),
      shards: ['eu-west', 'us-east'].map((r) => q.shards(r)),
      plans: ['eu-west', 'us-east'].map((r) => q.plans(r, { moves: Infinity, movedKeys: Infinity })),
    });
    const first = await answers(await given(...history));
    expect(first.plans.map((p) => p.length)).toEqual([1, 1]);

    await host!.stop();
    host = await openHost();
    const head = await store.headPosition();
    expect(await host.waitFor(SHARD_MAP, head, 10_000)).toBe(true);
    expect(await answers(host.queries<ShardMapQueries>(SHARD_MAP))).toEqual(first);

    const replayed = await host.replay(SHARD_MAP);
    expect(replayed).toMatchObject({ generation: 2, events: head });
    expect(await answers(host.queries<ShardMapQueries>(SHARD_MAP))).toEqual(first);

    // And it goes on from there.
    const q = await given(migrated('vm-0005', 'm3'));
    expect((await q.lookup('vm-0005'))?.region).toBe('us-east');
  });
});
