/**
 * The balanced token allocation of ring.ts: the same points as a slow, obvious
 * rewrite of the rule; rings that are prefixes of each other; bit-identical
 * rebuilds; and the balance it guarantees, by the exact arc analysis.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3 } from './hash.ts';
import { RING_SIZE, shardLoad } from './load.ts';
import { createRing, ringPoints, type RingPoints } from './ring.ts';

const M = 2n ** 32n;

/**
 * The rule of ring.ts's header, the slow way: points in one sorted array, every
 * shard's load and every arc found by scanning it, integers as BigInt.
 */
function referencePoints(regionId: string, shards: number, virtualNodes: number): { positions: number[]; owners: number[] } {
  const hashed = Array.from({ length: virtualNodes }, (_, v) => BigInt(murmur3(`${regionId}/0/${v}`)));
  const positions = [...new Set(hashed)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const owners = positions.map(() => 0);
  const arc = (i: number) => (positions.length === 1 ? M : (positions[i]! - positions[(i + positions.length - 1) % positions.length]! + M) % M);
  for (let shard = 1; shard < shards; shard++) {
    let remaining = M / BigInt(shard + 1);
    for (let left = BigInt(virtualNodes); left > 0n && remaining > 0n; left--) {
      const piece = (remaining + left - 1n) / left;
      const load = Array.from({ length: shard }, () => 0n);
      positions.forEach((_, i) => {
        if (owners[i]! < shard) load[owners[i]!]! += arc(i);
      });
      let giver = 0;
      load.forEach((l, s) => {
        if (l > load[giver]!) giver = s; // strictly more: the lowest shard number wins ties
      });
      let end = -1;
      positions.forEach((_, i) => {
        if (owners[i] === giver && (end < 0 || arc(i) > arc(end))) end = i; // ascending: the lowest position wins ties
      });
      const length = arc(end);
      const take = piece < length - 1n ? piece : length - 1n;
      if (take < 1n) break;
      const p = (positions[end]! - length + take + M) % M;
      const at = positions.findIndex((q) => q > p);
      const index = at < 0 ? positions.length : at;
      positions.splice(index, 0, p);
      owners.splice(index, 0, shard);
      remaining -= take;
    }
  }
  return { positions: positions.map(Number), owners };
}

const asArrays = ({ positions, owners }: RingPoints) => ({ positions: [...positions], owners: [...owners] });

/** The points of shards below `shards`, in ring order. */
function prefix({ positions, owners }: RingPoints, shards: number) {
  const keep = [...owners.keys()].filter((i) => owners[i]! < shards);
  return { positions: keep.map((i) => positions[i]!), owners: keep.map((i) => owners[i]!) };
}

const regionIdArb = fc.oneof(fc.constantFrom('eu-west-1', 'us-east-1', 'r', 'ü/ø'), fc.string({ minLength: 1, maxLength: 12 }));

describe('balanced token allocation', () => {
  it('places exactly the points of the rule, as a slow rewrite of it does', () => {
    fc.assert(
      fc.property(regionIdArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 24 }), (regionId, shards, virtualNodes) => {
        const built = asArrays(ringPoints(createRing({ regionId, shards, virtualNodes })));
        expect(built).toEqual(referencePoints(regionId, shards, virtualNodes));
      }),
      { numRuns: 150 },
    );
    // The small ring ring.test.ts pins lookups on.
    expect(asArrays(ringPoints(createRing({ regionId: 'us-east-1', shards: 7, virtualNodes: 50 })))).toEqual(referencePoints('us-east-1', 7, 50));
  });

  it('keeps positions strictly increasing, gives every shard virtualNodes points, and builds bit-identical rings', () => {
    for (const [regionId, shards, virtualNodes] of [
      ['eu-west-1', 100, 1000],
      ['ap-south-1', 1200, 7],
      ['x', 1, 1],
    ] as const) {
      const a = ringPoints(createRing({ regionId, shards, virtualNodes }));
      const b = ringPoints(createRing({ regionId, shards, virtualNodes }));
      expect(Buffer.from(a.positions.buffer).equals(Buffer.from(b.positions.buffer))).toBe(true);
      expect(Buffer.from(a.owners.buffer).equals(Buffer.from(b.owners.buffer))).toBe(true);
      expect(a.positions.every((p, i) => i === 0 || p > a.positions[i - 1]!)).toBe(true);
      const perShard = new Array<number>(shards).fill(0);
      for (const owner of a.owners) perShard[owner]!++;
      expect(perShard).toEqual(new Array<number>(shards).fill(virtualNodes));
    }
  });

  it('makes the ring of n shards exactly the ring of n + k shards without the points of shards n …', () => {
    const ring100 = ringPoints(createRing({ regionId: 'eu-west-1', shards: 100 }));
    const ring101 = ringPoints(createRing({ regionId: 'eu-west-1', shards: 101 }));
    expect(ring101.positions).toHaveLength(101_000);
    expect(prefix(ring101, 100)).toEqual(asArrays(ring100));
    fc.assert(
      fc.property(regionIdArb, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 30 }), (regionId, n, k, virtualNodes) => {
        const small = ringPoints(createRing({ regionId, shards: n, virtualNodes }));
        const large = ringPoints(createRing({ regionId, shards: n + k, virtualNodes }));
        expect(prefix(large, n)).toEqual(asArrays(small));
      }),
      { numRuns: 100 },
    );
  });

  it('builds the same ring from a ring of the region with fewer or more shards as from nothing', () => {
    fc.assert(
      fc.property(regionIdArb, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), (regionId, n, m, virtualNodes) => {
        const from = createRing({ regionId, shards: n, virtualNodes, replicationFactor: 2 });
        const derived = createRing({ regionId, shards: m, virtualNodes }, from);
        const fresh = createRing({ regionId, shards: m, virtualNodes });
        expect(asArrays(ringPoints(derived))).toEqual(asArrays(ringPoints(fresh)));
        expect(['a', 'b', 'vm-1', 'vm-2'].map((key) => derived.lookup(key))).toEqual(['a', 'b', 'vm-1', 'vm-2'].map((key) => fresh.lookup(key)));
      }),
      { numRuns: 100 },
    );
    const ring101 = ringPoints(createRing({ regionId: 'eu-west-1', shards: 101 }));
    expect(asArrays(ringPoints(createRing({ regionId: 'eu-west-1', shards: 101 }, createRing({ regionId: 'eu-west-1', shards: 100 }))))).toEqual(asArrays(ring101));
    // A ring of another region or virtual-node count is not used.
    expect(asArrays(ringPoints(createRing({ regionId: 'r', shards: 5, virtualNodes: 10 }, createRing({ regionId: 's', shards: 3, virtualNodes: 10 }))))).toEqual(
      asArrays(ringPoints(createRing({ regionId: 'r', shards: 5, virtualNodes: 10 }))),
    );
    expect(asArrays(ringPoints(createRing({ regionId: 'r', shards: 5, virtualNodes: 10 }, createRing({ regionId: 'r', shards: 3, virtualNodes: 9 }))))).toEqual(
      asArrays(ringPoints(createRing({ regionId: 'r', shards: 5, virtualNodes: 10 }))),
    );
  });

  it('gives the newest shard ⌊2^32 / n⌋ hashes and every shard within one piece (1/virtualNodes of a share) of 1/n', () => {
    // Loads do not depend on where the points fall (only arcs too short to cut
    // could change them, and none are), so the bound is the same for every region.
    const virtualNodes = 1000;
    for (const regionId of ['eu-west-1', 'us-east-1']) {
      for (const n of [1, 2, 3, 7, 50, 99, 100, 101, 150, 300]) {
        const load = shardLoad(createRing({ regionId, shards: n, virtualNodes }));
        expect(load[n - 1]).toBe(Math.floor(RING_SIZE / n) / RING_SIZE);
        // Measured over these counts: max ≤ 1 + 0.70/virtualNodes, min ≥ 1 − 0.72/virtualNodes.
        expect(Math.max(...load) * n).toBeLessThanOrEqual(1 + 1 / virtualNodes);
        expect(Math.min(...load) * n).toBeGreaterThanOrEqual(1 - 1 / virtualNodes);
      }
    }
  });

  it('holds the one-piece bound for few virtual nodes and many more shards than virtual nodes, at every shard count', () => {
    for (const virtualNodes of [1, 3, 10]) {
      for (let n = 1; n <= 150; n++) {
        const load = shardLoad(createRing({ regionId: 'eu-west-1', shards: n, virtualNodes }));
        expect(Math.max(...load) * n).toBeLessThanOrEqual(1 + 1 / virtualNodes);
      }
    }
  });
});
