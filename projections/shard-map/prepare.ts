import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { DEFAULT_REGION_SHARDS, newRegionParams, paramsOf, type RegionRow, type ShardMapEvent } from './apply.ts';
import type { RingCache, RingParams } from './ring-cache.ts';

function statements(db: Database.Database) {
  return {
    region: db.prepare<[string], RegionRow>('SELECT shards, virtual_nodes, replication_factor FROM shard_regions WHERE region_id = ?'),
    migration: db.prepare<[string], { migration_id: string | null; target_region_id: string | null }>(
      'SELECT migration_id, target_region_id FROM shard_vms WHERE vm_id = ?',
    ),
  };
}

/**
 * The rings the shard map's apply will ask for on `batch`, in the order it
 * asks: the batch is followed region by region from the regions' rows in `db`
 * (read only), as apply.ts follows it. May name a ring apply ends up not
 * needing (a migration that completes in its own region); never misses one.
 */
export function ringsForBatch(batch: readonly RecordedEvent[], db: Database.Database, s = statements(db)): RingParams[] {
  const regions = new Map<string, RingParams | null>();
  const targets = new Map<string, { migrationId: string; targetRegionId: string }>();
  const wanted = new Map<string, RingParams>();

  const want = (p: RingParams) => wanted.set(JSON.stringify([p.regionId, p.shards, p.virtualNodes, p.replicationFactor]), p);
  function region(regionId: string): RingParams | null {
    if (!regions.has(regionId)) {
      const row = s.region.get(regionId);
      regions.set(regionId, row ? paramsOf(regionId, row) : null);
    }
    return regions.get(regionId)!;
  }
  function setShards(regionId: string, shards: number): void {
    const before = region(regionId);
    if (before?.shards === shards) return;
    if (before) want(before);
    const after = before ? { ...before, shards } : newRegionParams(regionId, shards);
    want(after);
    regions.set(regionId, after);
  }
  function place(regionId: string): void {
    if (!region(regionId)) regions.set(regionId, newRegionParams(regionId, DEFAULT_REGION_SHARDS));
    want(region(regionId)!);
  }

  for (const event of batch as unknown as readonly ShardMapEvent[]) {
    switch (event.type) {
      case 'RegionAdded':
        setShards(event.data.regionId, event.data.shards);
        break;
      case 'RegionUpdated':
        if (event.data.shards !== null) setShards(event.data.regionId, event.data.shards);
        break;
      case 'VmCreated':
        place(event.data.regionId);
        break;
      case 'VmMigrationStarted':
        targets.set(event.data.vmId, { migrationId: event.data.migrationId, targetRegionId: event.data.targetRegionId });
        break;
      case 'VmMigrationCompleted': {
        const stored = s.migration.get(event.data.vmId);
        const target =
          targets.get(event.data.vmId) ??
          (stored?.migration_id && stored.target_region_id ? { migrationId: stored.migration_id, targetRegionId: stored.target_region_id } : undefined);
        if (target?.migrationId === event.data.migrationId) place(target.targetRegionId);
        break;
      }
      default:
        break;
    }
  }
  return [...wanted.values()];
}

/**
 * The shard map's prepare: builds, in the ring cache's worker thread, every
 * ring the apply of `batch` will ask for, one after the other (so each can be
 * built from the one before). A batch that changes one region's shard count
 * more than once may ask for more rings than the cache keeps per region: the
 * apply builds the evicted one itself, as it does any ring not prepared.
 */
export function createShardMapPrepare(cache: RingCache) {
  const prepared = new WeakMap<Database.Database, ReturnType<typeof statements>>();
  return async (batch: readonly RecordedEvent[], db: Database.Database): Promise<void> => {
    let s = prepared.get(db);
    if (!s) prepared.set(db, (s = statements(db)));
    for (const params of ringsForBatch(batch, db, s)) await cache.prepare(params);
  };
}
