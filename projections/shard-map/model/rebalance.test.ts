import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RING_SIZE, shardLoad } from './load.ts';
import { rebalancePlan } from './rebalance.ts';
import { createRing } from './ring.ts';

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

describe('shardLoad', () => {
  it('gives every shard its share of the ring, summing to 1', () => {
    const load = shardLoad(createRing({ regionId: 'eu-west-1', shards: 10, virtualNodes: 100 }));
    expect(load).toHaveLength(10);
    expect(sum(load)).toBeCloseTo(1, 12);
    for (const share of load) expect(share).toBeGreaterThan(0);
    expect(shardLoad(createRing({ regionId: 'r', shards: 1, virtualNodes: 1 }))).toEqual([1]);
  });
});

describe('rebalancePlan (analytic)', () => {
  const before = createRing({ regionId: 'eu-west-1', shards: 20, virtualNodes: 200 });
  const after = createRing({ regionId: 'eu-west-1', shards: 21, virtualNodes: 200 });

  it('moves nothing between equal rings', () => {
    expect(rebalancePlan(before, createRing({ regionId: 'eu-west-1', shards: 20, virtualNodes: 200 }))).toEqual({
      method: 'analytic',
      movedFraction: 0,
      moves: [],
    });
  });

  it('moves keys only to an added shard, exactly the share that shard ends up owning', () => {
    const plan = rebalancePlan(before, after);
    expect(plan.moves.every((m) => m.to === 20)).toBe(true);
    expect(plan.movedFraction).toBeCloseTo(shardLoad(after)[20]!, 12);
    const [loadBefore, loadAfter] = [shardLoad(before), shardLoad(after)];
    for (const move of plan.moves) expect(move.fraction).toBeCloseTo(loadBefore[move.from]! - loadAfter[move.from]!, 12);
  });

  it('moves keys only away from a removed shard', () => {
    const plan = rebalancePlan(after, before);
    expect(plan.moves.every((m) => m.from === 20)).toBe(true);
    expect(plan.movedFraction).toBeCloseTo(shardLoad(after)[20]!, 12);
  });

  it('moves keys only onto added shards when growing and only off removed shards when shrinking: exactly their share, the rest stays put', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('eu-west-1', 'ap-south-1', 'r'),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 60 }),
        (regionId, shards, added, virtualNodes) => {
          const small = createRing({ regionId, shards, virtualNodes });
          const large = createRing({ regionId, shards: shards + added, virtualNodes });
          const addedShare = sum(shardLoad(large).slice(shards));
          const grow = rebalancePlan(small, large);
          const shrink = rebalancePlan(large, small);
          expect(grow.moves.every((m) => m.from < shards && m.to >= shards)).toBe(true);
          expect(shrink.moves.every((m) => m.from >= shards && m.to < shards)).toBe(true);
          expect(grow.movedFraction).toBeCloseTo(addedShare, 12);
          expect(shrink.movedFraction).toBeCloseTo(addedShare, 12);
          // One shard more: the new shard's share is ⌊2^32 / (n+1)⌋ hashes at most (exactly, unless an arc was too short to cut).
          if (added === 1) expect(grow.movedFraction).toBeLessThanOrEqual(Math.floor(RING_SIZE / (shards + 1)) / RING_SIZE);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('lists the largest moves first', () => {
    const fractions = rebalancePlan(before, after).moves.map((m) => m.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => b - a));
  });

  it('conserves every shard\'s share between any two rings (load after = load before − out + in)', () => {
    const ringArb = fc.record({
      regionId: fc.constantFrom('a', 'b'),
      shards: fc.integer({ min: 1, max: 12 }),
      virtualNodes: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(ringArb, ringArb, (x, y) => {
        const [a, b] = [createRing(x), createRing(y)];
        const plan = rebalancePlan(a, b);
        const [la, lb] = [shardLoad(a), shardLoad(b)];
        for (let s = 0; s < Math.max(la.length, lb.length); s++) {
          const out = sum(plan.moves.filter((m) => m.from === s).map((m) => m.fraction));
          const into = sum(plan.moves.filter((m) => m.to === s).map((m) => m.fraction));
          expect((la[s] ?? 0) - out + into).toBeCloseTo(lb[s] ?? 0, 9);
        }
        expect(plan.movedFraction).toBeGreaterThanOrEqual(0);
        expect(plan.movedFraction).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with counting keys, within sampling error', () => {
    const sampleKeys = Array.from({ length: 100_000 }, (_, i) => `key-${i}`);
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.integer({ min: -3, max: 3 }), (shards, delta) => {
        const a = createRing({ regionId: 'ap-south-1', shards, virtualNodes: 100 });
        const b = createRing({ regionId: 'ap-south-1', shards: Math.max(1, shards + delta), virtualNodes: 100 });
        const exact = rebalancePlan(a, b).movedFraction;
        const counted = rebalancePlan(a, b, { sampleKeys });
        const sd = Math.sqrt((exact * (1 - exact)) / counted.sampleSize!);
        expect(Math.abs(counted.movedFraction - exact)).toBeLessThanOrEqual(5 * sd + 1e-9);
      }),
      { numRuns: 25 },
    );
  });
});
