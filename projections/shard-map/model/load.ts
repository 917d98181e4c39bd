import { ringPoints, type Ring } from './ring.ts';

/** Size of the hash space: positions and key hashes are unsigned 32-bit integers. */
export const RING_SIZE = 2 ** 32;

/**
 * Calls `visit(shard, hashes)` for every arc of the ring: the `hashes` key
 * hashes (an exact integer count) that lead to the point ending the arc. The
 * arc of point i is (positions[i-1], positions[i]]; point 0's arc wraps past
 * the top. The counts sum to 2^32.
 */
export function forEachArc(ring: Ring, visit: (shard: number, hashes: number) => void): void {
  const { positions, owners } = ringPoints(ring);
  const last = positions.length - 1;
  visit(owners[0]!, RING_SIZE - positions[last]! + positions[0]!);
  for (let i = 1; i <= last; i++) visit(owners[i]!, positions[i]! - positions[i - 1]!);
}

/** Fraction of the hash space (so of uniformly hashed keys) each shard owns as primary; index = shard number. */
export function shardLoad(ring: Ring): number[] {
  const hashes = new Array<number>(ring.shards).fill(0);
  forEachArc(ring, (shard, n) => {
    hashes[shard] = hashes[shard]! + n;
  });
  return hashes.map((n) => n / RING_SIZE);
}
