import type { SqliteProjection } from '../../streams/processing/projection.ts';
import { createShardMapApply, SHARD_MAP_EVENTS } from './apply.ts';
import { createShardMapPrepare } from './prepare.ts';
import { createShardMapQueries, type ShardMapQueries } from './queries.ts';
import { createRingCache, type RingCache } from './ring-cache.ts';
import { migrateShardMap } from './tables.ts';

export const SHARD_MAP = 'shard-map';

/**
 * The shard map: `key → region, shard, replicas` for every VM, load per shard,
 * and a rebalance plan whenever a region's shard count changes. Built from
 * region and VM events. (Cluster events change nothing here: a key's shard
 * depends only on its region's ring, not on the cluster its VM runs in.)
 * Rings live in `cache`, shared by the processor and the queries of every
 * generation; they are rebuilt only when a region's shard count changes, and
 * built by `prepare` in a worker thread before the apply that needs them.
 */
export function createShardMapProjection({ cache = createRingCache() }: { cache?: RingCache } = {}): SqliteProjection<ShardMapQueries> {
  return {
    name: SHARD_MAP,
    // 2: rings place points by balanced token allocation instead of at random, so every stored placement changed.
    version: 2,
    handles: SHARD_MAP_EVENTS,
    migrate: migrateShardMap,
    prepare: createShardMapPrepare(cache),
    apply: createShardMapApply(cache),
    queries: (db) => createShardMapQueries(db, cache),
  };
}
