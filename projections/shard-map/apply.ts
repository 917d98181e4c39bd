import type Database from 'better-sqlite3';
import type { EventDataMap } from '../../schemas/generated/events.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { DEFAULT_REPLICATION_FACTOR, DEFAULT_VIRTUAL_NODES, rebalancePlan, shardLoad, type Ring } from './model/index.ts';
import type { RingCache, RingParams } from './ring-cache.ts';

export const SHARD_MAP_EVENTS = [
  'RegionAdded',
  'RegionUpdated',
  'VmCreated',
  'VmMigrationStarted',
  'VmMigrationCompleted',
  'VmMigrationFailed',
  'VmDeleted',
] as const;

type ShardMapEventType = (typeof SHARD_MAP_EVENTS)[number];
export type ShardMapEvent = { [T in ShardMapEventType]: RecordedEvent<T, EventDataMap[T]> }[ShardMapEventType];

/** The event a plan is recorded for. */
type Cause = Pick<RecordedEvent, 'position' | 'metadata'>;

/** RegionAdded's schema default: the shard count of a region the map meets first through a VM. */
export const DEFAULT_REGION_SHARDS = 100;
/** VMs read per page while a shard change re-places a region's VMs. */
const PAGE = 5000;

export interface RegionRow {
  shards: number;
  virtual_nodes: number;
  replication_factor: number;
}
interface VmRow {
  vm_id: string;
  tenant_id: string;
  region_id: string;
  shard: number;
  replicas: string;
  migration_id: string | null;
  target_region_id: string | null;
}

function prepare(db: Database.Database) {
  return {
    region: db.prepare<[string], RegionRow>('SELECT shards, virtual_nodes, replication_factor FROM shard_regions WHERE region_id = ?'),
    insertRegion: db.prepare('INSERT INTO shard_regions (region_id, shards, virtual_nodes, replication_factor) VALUES (?, ?, ?, ?)'),
    setShards: db.prepare('UPDATE shard_regions SET shards = ? WHERE region_id = ?'),
    vm: db.prepare<[string], VmRow>('SELECT * FROM shard_vms WHERE vm_id = ?'),
    upsertVm: db.prepare(`
      INSERT INTO shard_vms (vm_id, tenant_id, region_id, shard, replicas, migration_id, target_region_id) VALUES (?, ?, ?, ?, ?, NULL, NULL)
      ON CONFLICT (vm_id) DO UPDATE SET tenant_id = excluded.tenant_id, region_id = excluded.region_id, shard = excluded.shard,
        replicas = excluded.replicas, migration_id = NULL, target_region_id = NULL`),
    replace: db.prepare('UPDATE shard_vms SET shard = ?, replicas = ? WHERE vm_id = ?'),
    migration: db.prepare('UPDATE shard_vms SET migration_id = ?, target_region_id = ? WHERE vm_id = ?'),
    deleteVm: db.prepare('DELETE FROM shard_vms WHERE vm_id = ?'),
    vmPage: db.prepare<[string, string, number], { vm_id: string; shard: number; replicas: string }>(
      'SELECT vm_id, shard, replicas FROM shard_vms WHERE region_id = ? AND vm_id > ? ORDER BY vm_id LIMIT ?',
    ),
    addLoad: db.prepare('UPDATE shard_load SET vms = vms + ? WHERE region_id = ? AND shard = ?'),
    deleteLoad: db.prepare('DELETE FROM shard_load WHERE region_id = ?'),
    insertLoad: db.prepare('INSERT INTO shard_load (region_id, shard, vms, ring_fraction) VALUES (?, ?, ?, ?)'),
    insertPlan: db.prepare(
      'INSERT INTO rebalance_plans (plan_id, region_id, occurred_at, from_shards, to_shards, moved_fraction, vms, moved_vms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertMove: db.prepare('INSERT INTO rebalance_plan_moves (plan_id, from_shard, to_shard, fraction, vms) VALUES (?, ?, ?, ?, ?)'),
    insertMovedKey: db.prepare('INSERT INTO rebalance_moved_keys (plan_id, key, from_shard, to_shard) VALUES (?, ?, ?, ?)'),
  };
}
type Statements = ReturnType<typeof prepare>;

export const paramsOf = (regionId: string, row: RegionRow): RingParams => ({
  regionId,
  shards: row.shards,
  virtualNodes: row.virtual_nodes,
  replicationFactor: row.replication_factor,
});

/** The ring parameters of a region the map meets for the first time. */
export const newRegionParams = (regionId: string, shards: number): RingParams => ({
  regionId,
  shards,
  virtualNodes: DEFAULT_VIRTUAL_NODES,
  replicationFactor: DEFAULT_REPLICATION_FACTOR,
});

/**
 * The shard map's processor: region events set each region's shard count (a
 * change re-places the region's VMs and records a rebalance plan), VM events
 * place, move and remove keys. Deterministic: rings depend only on their
 * parameters, plans are keyed by the position of the event that caused them.
 * The rings it asks the cache for are built beforehand, in a worker thread, by
 * the projection's prepare (prepare.ts); one nobody prepared is built here.
 */
export function createShardMapApply(cache: RingCache) {
  const statements = new WeakMap<Database.Database, Statements>();

  function writeLoad(s: Statements, regionId: string, ring: Ring, counts: readonly number[]): void {
    s.deleteLoad.run(regionId);
    const fractions = shardLoad(ring);
    for (let shard = 0; shard < ring.shards; shard++) s.insertLoad.run(regionId, shard, counts[shard] ?? 0, fractions[shard] ?? 0);
  }

  function addRegion(s: Statements, regionId: string, shards: number): RingParams {
    const params = newRegionParams(regionId, shards);
    s.insertRegion.run(regionId, shards, params.virtualNodes, params.replicationFactor);
    writeLoad(s, regionId, cache.ring(params), []);
    return params;
  }

  /** The region's ring parameters; a region first met through a VM gets the default shard count. */
  function ensureRegion(s: Statements, regionId: string): RingParams {
    const row = s.region.get(regionId);
    return row ? paramsOf(regionId, row) : addRegion(s, regionId, DEFAULT_REGION_SHARDS);
  }

  /** Re-places every VM of the region on the new ring and records what moved. */
  function reshard(s: Statements, before: RingParams, shards: number, cause: Cause): void {
    const { regionId } = before;
    const oldRing = cache.ring(before);
    const newRing = cache.ring({ ...before, shards });
    const plan = rebalancePlan(oldRing, newRing);
    const counts = new Array<number>(shards).fill(0);
    const movedPairs = new Map<string, number>();
    const moved: Array<[key: string, from: number, to: number]> = [];
    let total = 0;
    for (let after = ''; ; ) {
      const page = s.vmPage.all(regionId, after, PAGE);
      for (const vm of page) {
        const placement = newRing.lookup(vm.vm_id);
        const replicas = JSON.stringify(placement.replicas);
        total++;
        counts[placement.shard]!++;
        if (placement.shard !== vm.shard) {
          moved.push([vm.vm_id, vm.shard, placement.shard]);
          const pair = `${vm.shard}>${placement.shard}`;
          movedPairs.set(pair, (movedPairs.get(pair) ?? 0) + 1);
        }
        if (placement.shard !== vm.shard || replicas !== vm.replicas) s.replace.run(placement.shard, replicas, vm.vm_id);
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.vm_id;
    }
    s.setShards.run(shards, regionId);
    writeLoad(s, regionId, newRing, counts);

    const planId = cause.position;
    s.insertPlan.run(planId, regionId, cause.metadata.occurredAt, before.shards, shards, plan.movedFraction, total, moved.length);
    for (const move of plan.moves) {
      const pair = `${move.from}>${move.to}`;
      s.insertMove.run(planId, move.from, move.to, move.fraction, movedPairs.get(pair) ?? 0);
      movedPairs.delete(pair);
    }
    // Every VM that moved lies on an arc the analysis counted; anything left would be a bug in one of the two, kept visible.
    for (const [pair, vms] of movedPairs) {
      const [from, to] = pair.split('>').map(Number) as [number, number];
      s.insertMove.run(planId, from, to, 0, vms);
    }
    for (const [key, from, to] of moved) s.insertMovedKey.run(planId, key, from, to);
  }

  function setShards(s: Statements, regionId: string, shards: number, cause: Cause): void {
    const row = s.region.get(regionId);
    if (!row) addRegion(s, regionId, shards);
    else if (row.shards !== shards) reshard(s, paramsOf(regionId, row), shards, cause);
  }

  /** Puts the VM on its region's ring, keeping the shard loads in step. */
  function place(s: Statements, vmId: string, tenantId: string, regionId: string, previous: VmRow | undefined): void {
    if (previous) s.addLoad.run(-1, previous.region_id, previous.shard);
    const placement = cache.ring(ensureRegion(s, regionId)).lookup(vmId);
    const replicas = JSON.stringify(placement.replicas);
    s.upsertVm.run(vmId, tenantId, regionId, placement.shard, replicas);
    s.addLoad.run(1, regionId, placement.shard);
  }

  function applyOne(s: Statements, event: ShardMapEvent): void {
    switch (event.type) {
      case 'RegionAdded':
        return setShards(s, event.data.regionId, event.data.shards, event);
      case 'RegionUpdated':
        if (event.data.shards !== null) setShards(s, event.data.regionId, event.data.shards, event);
        return;
      case 'VmCreated': {
        const { vmId, tenantId, regionId } = event.data;
        return place(s, vmId, tenantId, regionId, s.vm.get(vmId));
      }
      case 'VmMigrationStarted':
        s.migration.run(event.data.migrationId, event.data.targetRegionId, event.data.vmId);
        return;
      case 'VmMigrationCompleted': {
        const vm = s.vm.get(event.data.vmId);
        if (!vm) return;
        const target = vm.migration_id === event.data.migrationId ? vm.target_region_id : null;
        if (target !== null && target !== vm.region_id) place(s, vm.vm_id, vm.tenant_id, target, vm);
        else s.migration.run(null, null, vm.vm_id);
        return;
      }
      case 'VmMigrationFailed':
        s.migration.run(null, null, event.data.vmId);
        return;
      case 'VmDeleted': {
        const vm = s.vm.get(event.data.vmId);
        if (!vm) return;
        s.addLoad.run(-1, vm.region_id, vm.shard);
        s.deleteVm.run(vm.vm_id);
        return;
      }
      default: {
        const unexpected: never = event;
        throw new TypeError(`shard-map: no rule for ${(unexpected as RecordedEvent).type}`);
      }
    }
  }

  return (batch: readonly RecordedEvent[], db: Database.Database): void => {
    let s = statements.get(db);
    if (!s) statements.set(db, (s = prepare(db)));
    for (const event of batch) applyOne(s, event as unknown as ShardMapEvent);
  };
}
