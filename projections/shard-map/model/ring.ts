/**
 * One region's consistent-hash ring. Shards are numbered 0..shards-1 (a region
 * carries only its shard count); every shard owns `virtualNodes` points on a
 * 2^32 ring at murmur3(`${regionId}/${shard}/${v}`). A key belongs to the first
 * point at or after murmur3(key), wrapping past the top; its replicas are the
 * owners of the next points clockwise that are distinct shards.
 *
 * Points are kept sorted in a Uint32Array with a parallel array of owning
 * shards, so a lookup is one hash and one binary search. Two points at the same
 * position are ordered by shard number, so every process builds the same ring.
 */
import { REGION_SHARDS } from '../../../commands/region/decider.ts';
import { NovaCronError } from '../../../streams/errors/index.ts';
import { murmur3 } from './hash.ts';

export const DEFAULT_VIRTUAL_NODES = 1000;
export const DEFAULT_REPLICATION_FACTOR = 3;
/** Shard numbers are packed below the position in one float64 while sorting. */
const MAX_SHARDS = 2 ** 20;

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

/** The sorted points; shared with the analyses (load, rebalance), never handed out. */
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

function buildPoints(regionId: string, shards: number, virtualNodes: number): RingPoints {
  const count = shards * virtualNodes;
  const packed = new Float64Array(count);
  let n = 0;
  for (let shard = 0; shard < shards; shard++) {
    const prefix = `${regionId}/${shard}/`;
    for (let v = 0; v < virtualNodes; v++) packed[n++] = murmur3(prefix + v) * MAX_SHARDS + shard;
  }
  packed.sort();
  const positions = new Uint32Array(count);
  const owners = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const p = packed[i]!;
    const shard = p % MAX_SHARDS;
    owners[i] = shard;
    positions[i] = (p - shard) / MAX_SHARDS;
  }
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

export function createRing({
  regionId,
  shards = REGION_SHARDS.default,
  virtualNodes = DEFAULT_VIRTUAL_NODES,
  replicationFactor = DEFAULT_REPLICATION_FACTOR,
}: RingOptions): Ring {
  if (typeof regionId !== 'string' || regionId === '') throw invalid('regionId', 'must be a non-empty string', regionId);
  requireCount('shards', shards, MAX_SHARDS);
  requireCount('virtualNodes', virtualNodes, 100_000);
  requireCount('replicationFactor', replicationFactor, 16);
  if (shards * virtualNodes > 50_000_000) throw invalid('virtualNodes', 'times shards must be at most 50,000,000', virtualNodes);

  const built = buildPoints(regionId, shards, virtualNodes);
  const { positions, owners } = built;
  const width = Math.min(replicationFactor, shards) - 1;
  const replicas = buildReplicas(built, width);

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
  points.set(ring, built);
  return Object.freeze(ring);
}
