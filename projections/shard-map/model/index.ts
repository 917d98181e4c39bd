/** Shard map model: which shard and replicas of a region hold a key, and what moves when shards change. Pure. */
export { murmur3, murmur3Bytes } from './hash.ts';
export {
  buildRingParts,
  createRing,
  DEFAULT_REPLICATION_FACTOR,
  DEFAULT_VIRTUAL_NODES,
  ringFromParts,
  ringPoints,
  type Ring,
  type RingBase,
  type RingOptions,
  type RingParts,
  type ShardPlacement,
} from './ring.ts';
export { forEachArc, RING_SIZE, shardLoad } from './load.ts';
export { rebalancePlan, type RebalancePlan, type RebalanceSource, type ShardMove } from './rebalance.ts';
