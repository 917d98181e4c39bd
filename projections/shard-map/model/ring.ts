/**
 * One region's consistent-hash ring. Shards are numbered 0..shards-1 (a region
 * carries only its shard count); every shard owns `virtualNodes` points on a
 * 2^32 ring. A key belongs to the first point at or after murmur3(key),
 * wrapping past the top; its replicas are the owners of the next points
 * clockwise that are distinct shards. A point owns the arc (previous point, point].
 *
 * Points are placed by balanced token allocation (the idea of Cassandra's
 * allocate_tokens), not at random:
 *
 *  - Shard 0's points are at murmur3(`${regionId}/0/${v}`), v < virtualNodes
 *    (so regions differ; a position hashed twice counts once), and it owns the
 *    whole ring.
 *  - Shards s = 1, 2, … join one at a time. Shard s takes T = ⌊2^32 / (s+1)⌋
 *    hash values in `virtualNodes` pieces: each piece is ⌈R / P⌉ (R hashes still
 *    to take, P pieces left) and comes from the old shard owning the most
 *    hashes (its excess over the common target 1/(s+1) is largest; ties: lowest
 *    shard number), out of that shard's longest arc (a, b] (ties: lowest b):
 *    the new point p = a + take takes (a, p] and b keeps (p, b], where take is
 *    the piece, or the arc's length − 1 if that is less (so points never
 *    coincide; the next pieces make up for it).
 *
 * After shard s joins it owns T (only a short last piece could leave it less;
 * none did up to 10,000 shards × 1000), and every shard is within one piece
 * (≈ 1/((s+1)·virtualNodes) of the ring; measured at most 0.72 of one) of
 * 1/(s+1). Shard s's points depend only on shards < s, so the ring of n shards
 * is exactly the ring of n+1 shards without shard n's points: growing moves
 * keys only onto the new shards, shrinking only off the removed ones (and a
 * ring can be built from the ring of the region at another shard count, see
 * createRing). Everything is integer arithmetic on exact doubles (values below
 * 2^53), so every process builds the bit-identical ring.
 *
 * Points are kept sorted in a Uint32Array with a parallel array of owning
 * shards, so a lookup is one hash and one binary search.
 */
import { REGION_SHARDS } from '../../../commands/region/decider.ts';
import { NovaCronError } from '../../../streams/errors/index.ts';
import { murmur3 } from './hash.ts';

export const DEFAULT_VIRTUAL_NODES = 1000;
export const DEFAULT_REPLICATION_FACTOR = 3;
/** Shard numbers are below 2^20 (packed beside a shard's load in one double while building; rebalance tallies rely on it too). */
const MAX_SHARDS = 2 ** 20;
/** Most virtual nodes per shard. */
const MAX_VIRTUAL_NODES = 100_000;

/** Where a key lives: its primary shard, then `replicationFactor - 1` distinct replica shards clockwise. */
export interface ShardPlacement {
  readonly shard: number;
  /** Fewer than `replicationFactor - 1` only when the region has fewer shards than that. */
  readonly replicas: readonly number[];
}

export interface Ring {
  readonly regionId: string;
  readonly shards: number;
  readonly virtualNodes: number;
  readonly replicationFactor: number;
  lookup(key: string): ShardPlacement;
  /** The primary shard alone, without allocating. */
  shardOf(key: string): number;
}

export interface RingOptions {
  regionId: string;
  shards?: number;
  virtualNodes?: number;
  replicationFactor?: number;
}

/** The sorted points; shared with the analyses (load, rebalance) and the ring cache (a base for its worker), never handed out of the shard map. */
export interface RingPoints {
  readonly positions: Uint32Array;
  readonly owners: Uint32Array;
}

const points = new WeakMap<Ring, RingPoints>();

export function ringPoints(ring: Ring): RingPoints {
  const found = points.get(ring);
  if (!found) throw new TypeError('not a ring made by createRing');
  return found;
}

const invalid = (field: string, message: string, value: unknown) =>
  new NovaCronError('NC_VALIDATION', `${field} ${message}`, { details: { field, value } });

function requireCount(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw invalid(field, `must be an integer from 1 to ${max}`, value);
  return value;
}

/** Index of the first point at or after `hash`, wrapping to 0. */
function pointIndex(positions: Uint32Array, hash: number): number {
  let lo = 0;
  let hi = positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positions[mid]! < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo === positions.length ? 0 : lo;
}

const RING = 2 ** 32;
/**
 * The arcs of one shard as a binary max-heap in `heap`, from element `base`:
 * element k is heap[2(base+k)] = room (the arc's length − 1: the most it can
 * give up while its end point keeps one hash) and heap[2(base+k)+1] = the
 * position of its end point. Longest arc on top; equal lengths: lowest
 * position first (positions are distinct).
 */
function sinkArc(heap: Uint32Array, base: number, size: number, i: number): void {
  const room = heap[2 * (base + i)]!;
  const end = heap[2 * (base + i) + 1]!;
  for (let child = 2 * i + 1; child < size; child = 2 * i + 1) {
    let r = heap[2 * (base + child)]!;
    let e = heap[2 * (base + child) + 1]!;
    if (child + 1 < size) {
      const r2 = heap[2 * (base + child) + 2]!;
      const e2 = heap[2 * (base + child) + 3]!;
      if (r2 > r || (r2 === r && e2 < e)) {
        child++;
        r = r2;
        e = e2;
      }
    }
    if (r < room || (r === room && e > end)) break;
    heap[2 * (base + i)] = r;
    heap[2 * (base + i) + 1] = e;
    i = child;
  }
  heap[2 * (base + i)] = room;
  heap[2 * (base + i) + 1] = end;
}

/**
 * The shards as a max-heap of single exact doubles: hashes owned × 2^20 +
 * (2^20 − 1 − shard), so the busiest shard is on top, ties going to the lowest
 * number (below 2^53: hashes ≤ 2^32, shard < 2^20).
 */
const shardKey = (hashes: number, shard: number) => hashes * MAX_SHARDS + (MAX_SHARDS - 1 - shard);
const shardOfKey = (key: number) => MAX_SHARDS - 1 - (key - Math.floor(key / MAX_SHARDS) * MAX_SHARDS);

function sinkShard(keys: Float64Array, size: number, i: number): void {
  const key = keys[i]!;
  for (let child = 2 * i + 1; child < size; child = 2 * i + 1) {
    if (child + 1 < size && keys[child + 1]! > keys[child]!) child++;
    const larger = keys[child]!;
    if (larger < key) break;
    keys[i] = larger;
    i = child;
  }
  keys[i] = key;
}

function raiseShard(keys: Float64Array, i: number): void {
  const key = keys[i]!;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const smaller = keys[parent]!;
    if (smaller > key) break;
    keys[i] = smaller;
    i = parent;
  }
  keys[i] = key;
}

/** Counting sort of the first `n` points by one 16-bit digit of their position, into `toPosition`, `toOwner`. */
function sortByDigit(shift: number, n: number, position: Uint32Array, owner: Uint32Array, toPosition: Uint32Array, toOwner: Uint32Array): void {
  const next = new Uint32Array(65536);
  for (let i = 0; i < n; i++) next[(position[i]! >>> shift) & 0xffff]!++;
  for (let d = 0, at = 0; d < 65536; d++) {
    const c = next[d]!;
    next[d] = at;
    at += c;
  }
  for (let i = 0; i < n; i++) {
    const at = next[(position[i]! >>> shift) & 0xffff]!++;
    toPosition[at] = position[i]!;
    toOwner[at] = owner[i]!;
  }
}

/** The points of the shards below `shards`: the ring of that many shards (see the header). */
function prefixPoints({ positions, owners }: RingPoints, shards: number): RingPoints {
  let kept = 0;
  for (let i = 0; i < owners.length; i++) if (owners[i]! < shards) kept++;
  const prefix = { positions: new Uint32Array(kept), owners: new Uint32Array(kept) };
  for (let i = 0, k = 0; i < owners.length; i++) {
    if (owners[i]! >= shards) continue;
    prefix.positions[k] = positions[i]!;
    prefix.owners[k++] = owners[i]!;
  }
  return prefix;
}

/**
 * The balanced token allocation of the header, for shards 1 … shards-1, or
 * only for shards from.shards … when `from` holds the points of the first
 * from.shards (the allocation's state is a function of the points: every
 * shard's arcs and the hashes it owns). Shard j's arcs are a heap at elements
 * j·virtualNodes … of `heap`; the shards, by hashes owned, are the heap
 * `busiest`. An arc (a, b] is known by its end b and its length, so no
 * neighbours are kept: points are listed as they are placed and sorted by
 * position once at the end (radix sort; positions are distinct).
 *
 * All values are integers below 2^53, so every operation is exact; the two
 * divisions are floor / ceiling of integers at most 2^32 by integers at most
 * 2^20, which IEEE division (correctly rounded, the same everywhere) gets exactly.
 */
function buildPoints(regionId: string, shards: number, virtualNodes: number, from?: { points: RingPoints; shards: number }): RingPoints {
  if (from && from.shards >= shards) return prefixPoints(from.points, shards);
  const capacity = shards * virtualNodes;
  const position = new Uint32Array(capacity);
  const owner = new Uint32Array(capacity);
  const heap = new Uint32Array(2 * capacity);
  const count = new Uint32Array(shards);
  const busiest = new Float64Array(shards);
  let points = 0;
  let joined: number;

  if (from) {
    // The state after shards 0 … from.shards-1 joined, from their points.
    const { positions, owners } = from.points;
    const n = positions.length;
    for (let i = 0; i < n; i++) {
      const shard = owners[i]!;
      const length = n === 1 ? RING : (positions[i]! - positions[i === 0 ? n - 1 : i - 1]!) >>> 0;
      position[points] = positions[i]!;
      owner[points++] = shard;
      const slot = 2 * (shard * virtualNodes + count[shard]!++);
      heap[slot] = length - 1;
      heap[slot + 1] = positions[i]!;
      busiest[shard] = busiest[shard]! + length;
    }
    joined = from.shards;
    for (let shard = 0; shard < joined; shard++) {
      for (let i = (count[shard]! >> 1) - 1; i >= 0; i--) sinkArc(heap, shard * virtualNodes, count[shard]!, i);
      busiest[shard] = shardKey(busiest[shard]!, shard);
    }
    for (let i = (joined >> 1) - 1; i >= 0; i--) sinkShard(busiest, joined, i);
  } else {
    // Shard 0: hashed points, sorted, a repeated position counted once.
    const hashed = new Float64Array(virtualNodes);
    const prefix = `${regionId}/0/`;
    for (let v = 0; v < virtualNodes; v++) hashed[v] = murmur3(prefix + v);
    hashed.sort();
    for (let v = 0; v < virtualNodes; v++) if (v === 0 || hashed[v] !== hashed[v - 1]) position[points++] = hashed[v]!;
    for (let i = 0; i < points; i++) {
      heap[2 * i] = points === 1 ? RING - 1 : ((position[i]! - position[i === 0 ? points - 1 : i - 1]!) >>> 0) - 1;
      heap[2 * i + 1] = position[i]!;
    }
    for (let i = (points >> 1) - 1; i >= 0; i--) sinkArc(heap, 0, points, i);
    count[0] = points;
    busiest[0] = shardKey(RING, 0);
    joined = 1;
  }

  for (let shard = joined; shard < shards; shard++) {
    const start = points;
    const target = Math.floor(RING / (shard + 1));
    let remaining = target;
    for (let left = virtualNodes; left > 0 && remaining > 0; left--) {
      const piece = Math.ceil(remaining / left);
      const giverKey: number = busiest[0]!;
      const giver = shardOfKey(giverKey);
      const top = 2 * giver * virtualNodes;
      const room = heap[top]!;
      const take = Math.min(piece, room);
      if (take < 1) break; // cannot happen within createRing's limits: the busiest shard's arcs average > 85 hashes
      // The arc (end − room − 1, end] becomes (end − room − 1, p] for the new point p and (p, end] for its end.
      const p = (heap[top + 1]! - room - 1 + take) >>> 0;
      const id = points++;
      position[id] = p;
      owner[id] = shard;
      const made = 2 * (shard * virtualNodes + id - start);
      heap[made] = take - 1;
      heap[made + 1] = p;
      heap[top] = room - take;
      sinkArc(heap, giver * virtualNodes, count[giver]!, 0);
      busiest[0] = giverKey - take * MAX_SHARDS;
      sinkShard(busiest, shard, 0);
      remaining -= take;
    }
    count[shard] = points - start;
    for (let i = ((points - start) >> 1) - 1; i >= 0; i--) sinkArc(heap, shard * virtualNodes, points - start, i);
    busiest[shard] = shardKey(target - remaining, shard);
    raiseShard(busiest, shard);
  }

  const positions = new Uint32Array(points);
  const owners = new Uint32Array(points);
  const byLow = new Uint32Array(points);
  const ownerByLow = new Uint32Array(points);
  sortByDigit(0, points, position, owner, byLow, ownerByLow);
  sortByDigit(16, points, byLow, ownerByLow, positions, owners);
  return { positions, owners };
}

/** For every point, the next `width` distinct shards clockwise other than its owner. */
function buildReplicas({ owners }: RingPoints, width: number): Uint32Array {
  const count = owners.length;
  const replicas = new Uint32Array(count * width);
  for (let i = 0; i < count; i++) {
    const owner = owners[i]!;
    let found = 0;
    for (let j = (i + 1) % count; found < width; j = (j + 1) % count) {
      const shard = owners[j]!;
      if (shard === owner) continue;
      let seen = false;
      for (let f = 0; f < found; f++) if (replicas[i * width + f] === shard) seen = true;
      if (!seen) replicas[i * width + found++] = shard;
    }
  }
  return replicas;
}

/** A built ring's arrays: what `ringFromParts` needs to make the ring again without building (say, arrays built in another thread). */
export interface RingParts extends RingPoints {
  /** For point i, its `min(replicationFactor, shards) − 1` replica shards from i·width. */
  readonly replicas: Uint32Array;
}

type ValidOptions = Required<RingOptions>;

function validOptions({
  regionId,
  shards = REGION_SHARDS.default,
  virtualNodes = DEFAULT_VIRTUAL_NODES,
  replicationFactor = DEFAULT_REPLICATION_FACTOR,
}: RingOptions): ValidOptions {
  if (typeof regionId !== 'string' || regionId === '') throw invalid('regionId', 'must be a non-empty string', regionId);
  requireCount('shards', shards, MAX_SHARDS);
  requireCount('virtualNodes', virtualNodes, MAX_VIRTUAL_NODES);
  requireCount('replicationFactor', replicationFactor, 16);
  if (shards * virtualNodes > 50_000_000) throw invalid('virtualNodes', 'times shards must be at most 50,000,000', virtualNodes);
  return { regionId, shards, virtualNodes, replicationFactor };
}

const replicaWidth = (o: ValidOptions) => Math.min(o.replicationFactor, o.shards) - 1;

/** A ring's points of another shard count that can serve as the base of a build (see createRing). */
export interface RingBase {
  readonly regionId: string;
  readonly shards: number;
  readonly virtualNodes: number;
  readonly points: RingPoints;
}

/**
 * The arrays of the ring of these options: all the work of createRing, for
 * building in a worker thread. `base` (the points of the same region and
 * virtual nodes at another shard count) only saves work, as `from` does.
 */
export function buildRingParts(options: RingOptions, base?: RingBase): RingParts {
  const o = validOptions(options);
  const from = base && base.regionId === o.regionId && base.virtualNodes === o.virtualNodes ? base : undefined;
  const built = buildPoints(o.regionId, o.shards, o.virtualNodes, from);
  return { ...built, replicas: buildReplicas(built, replicaWidth(o)) };
}

/** The ring of these options around arrays that buildRingParts made for the same options (cheap: no building). */
export function ringFromParts(options: RingOptions, parts: RingParts): Ring {
  const o = validOptions(options);
  const { positions, owners, replicas } = parts;
  const width = replicaWidth(o);
  if (owners.length !== positions.length || replicas.length !== positions.length * width || positions.length === 0) {
    throw new TypeError('ringFromParts: arrays do not fit these options');
  }
  const { regionId, shards, virtualNodes, replicationFactor } = o;
  const ring: Ring = {
    regionId,
    shards,
    virtualNodes,
    replicationFactor,
    lookup(key) {
      const i = pointIndex(positions, murmur3(key));
      const chosen: number[] = [];
      for (let r = i * width, end = r + width; r < end; r++) chosen.push(replicas[r]!);
      return { shard: owners[i]!, replicas: chosen };
    },
    shardOf: (key) => owners[pointIndex(positions, murmur3(key))]!,
  };
  points.set(ring, { positions, owners });
  return Object.freeze(ring);
}

/**
 * The ring of these options. `from`, a ring of the same region and virtual
 * nodes with any shard count (say the ring before a shard-count change), only
 * saves work: its points are this ring's points of its shards, so only the
 * difference is allocated. A ring of another region or virtual-node count is
 * not used.
 */
export function createRing(options: RingOptions, from?: Ring): Ring {
  const base = from && { regionId: from.regionId, shards: from.shards, virtualNodes: from.virtualNodes, points: ringPoints(from) };
  return ringFromParts(options, buildRingParts(options, base));
}
