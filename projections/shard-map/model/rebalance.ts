/**
 * What moves when a region's shard count changes: for every (from, to) pair of
 * primary shards, the fraction of keys that leave `from` for `to`.
 *
 * 'analytic' (the default) is exact: it walks both rings' sorted points at
 * once and adds up, per pair, the length of every stretch of the hash space
 * whose owner differs — no keys needed. `{ sampleKeys }` counts the keys given
 * instead (to check the analysis, or to weigh moves by real keys).
 */
import { RING_SIZE } from './load.ts';
import { ringPoints, type Ring } from './ring.ts';

export interface ShardMove {
  readonly from: number;
  readonly to: number;
  /** Fraction of all keys (of the hash space, for 'analytic'). */
  readonly fraction: number;
  /** Keys counted ('sample' only). */
  readonly keys?: number;
}

export interface RebalancePlan {
  readonly method: 'analytic' | 'sample';
  /** Fraction of keys whose primary shard changes: the sum of the moves. */
  readonly movedFraction: number;
  /** Pairs with from ≠ to, largest first (then by from, to). */
  readonly moves: readonly ShardMove[];
  /** Keys counted ('sample' only). */
  readonly sampleSize?: number;
}

export type RebalanceSource = 'analytic' | { readonly sampleKeys: Iterable<string> };

/** Pair key for the tally; shard numbers are below 2^20. */
const pair = (from: number, to: number) => from * 2 ** 21 + to;
const unpair = (key: number) => ({ from: Math.floor(key / 2 ** 21), to: key % 2 ** 21 });

function tallyArcs(oldRing: Ring, newRing: Ring): Map<number, number> {
  const a = ringPoints(oldRing);
  const b = ringPoints(newRing);
  const tally = new Map<number, number>();
  const add = (from: number, to: number, hashes: number) => {
    if (from === to || hashes === 0) return;
    const k = pair(from, to);
    tally.set(k, (tally.get(k) ?? 0) + hashes);
  };
  const na = a.positions.length;
  const nb = b.positions.length;
  // Every stretch (previous boundary, boundary] of the merged points has one
  // owner per ring: the ring's next point at or after the boundary.
  let i = 0;
  let j = 0;
  let previous = -1;
  let first = -1;
  while (i < na || j < nb) {
    const pa = i < na ? a.positions[i]! : Infinity;
    const pb = j < nb ? b.positions[j]! : Infinity;
    const boundary = Math.min(pa, pb);
    const from = a.owners[i < na ? i : 0]!;
    const to = b.owners[j < nb ? j : 0]!;
    if (first < 0) first = boundary;
    else add(from, to, boundary - previous);
    previous = boundary;
    if (pa === boundary) i++;
    else j++;
  }
  // The wrap-around stretch (last boundary, top] ∪ [0, first boundary] belongs to point 0 of each ring.
  add(a.owners[0]!, b.owners[0]!, RING_SIZE - previous + first);
  return tally;
}

function tallyKeys(oldRing: Ring, newRing: Ring, keys: Iterable<string>): { tally: Map<number, number>; size: number } {
  const tally = new Map<number, number>();
  let size = 0;
  for (const key of keys) {
    size++;
    const from = oldRing.shardOf(key);
    const to = newRing.shardOf(key);
    if (from !== to) tally.set(pair(from, to), (tally.get(pair(from, to)) ?? 0) + 1);
  }
  return { tally, size };
}

function toMoves(tally: Map<number, number>, total: number, withKeys: boolean): ShardMove[] {
  const moves = [...tally].map(([k, n]) => ({ ...unpair(k), fraction: total === 0 ? 0 : n / total, ...(withKeys ? { keys: n } : {}) }));
  return moves.sort((x, y) => y.fraction - x.fraction || x.from - y.from || x.to - y.to);
}

export function rebalancePlan(oldRing: Ring, newRing: Ring, source: RebalanceSource = 'analytic'): RebalancePlan {
  if (source === 'analytic') {
    const tally = tallyArcs(oldRing, newRing);
    const moved = [...tally.values()].reduce((s, n) => s + n, 0);
    return { method: 'analytic', movedFraction: moved / RING_SIZE, moves: toMoves(tally, RING_SIZE, false) };
  }
  const { tally, size } = tallyKeys(oldRing, newRing, source.sampleKeys);
  const moved = [...tally.values()].reduce((s, n) => s + n, 0);
  return { method: 'sample', movedFraction: size === 0 ? 0 : moved / size, moves: toMoves(tally, size, true), sampleSize: size };
}
