/** The shard-map projection: key → region, shard, replicas; load per shard; rebalance plans. */
import { createShardMapProjection } from './projection.ts';

export { createShardMapProjection, SHARD_MAP } from './projection.ts';
export { createRingCache, type RingCache, type RingParams } from './ring-cache.ts';
export type { RebalanceMove, RebalancePlanView, ShardLoadRow, ShardMapQueries, ShardPlacementAnswer, ShardRegion } from './queries.ts';

/** The instance the platform runs: one ring cache per process, shared by every generation. */
export const shardMapProjection = createShardMapProjection();
