/**
 * The shard map's promises at production size: 100 shards × 1000 virtual
 * nodes, 1M keys `vm-0` … `vm-999999`, checked by counting keys and by the
 * exact arc analysis, which must agree within sampling error.
 */
import { describe, expect, it } from 'vitest';
import { shardLoad } from './load.ts';
import { rebalancePlan } from './rebalance.ts';
import { createRing } from './ring.ts';

const N = 1_000_000;
const keys = Array.from({ length: N }, (_, i) => `vm-${i}`);
const ring100 = createRing({ regionId: 'eu-west-1', shards: 100 });
const ring101 = createRing({ regionId: 'eu-west-1', shards: 101 });
/** Standard deviation of a fraction p measured over N keys. */
const sd = (p: number) => Math.sqrt((p * (1 - p)) / N);

describe('100 shards × 1000 virtual nodes, 1M keys', () => {
  it('keeps the busiest shard within 1.10 × the mean', () => {
    const counts = new Uint32Array(100);
    for (const key of keys) counts[ring100.shardOf(key)]!++;
    const mean = N / 100;
    expect(Math.max(...counts) / mean).toBeLessThanOrEqual(1.1);

    const load = shardLoad(ring100);
    expect(Math.max(...load) * 100).toBeLessThanOrEqual(1.1);
    load.forEach((share, shard) => expect(Math.abs(counts[shard]! / N - share)).toBeLessThanOrEqual(5 * sd(share)));
  });

  it('moves at most 1.05 × 1/101 of the keys going to 101 shards, counted and analytic alike', () => {
    const counted = rebalancePlan(ring100, ring101, { sampleKeys: keys });
    const exact = rebalancePlan(ring100, ring101);
    const bound = 1.05 / 101;
    expect(counted.movedFraction).toBeLessThanOrEqual(bound);
    expect(exact.movedFraction).toBeLessThanOrEqual(bound);
    expect(Math.abs(counted.movedFraction - exact.movedFraction)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(counted.movedFraction - exact.movedFraction)).toBeLessThanOrEqual(5 * sd(exact.movedFraction));
    // Only the new shard gains keys, from every old shard, in both views.
    expect(new Set(counted.moves.map((m) => m.to))).toEqual(new Set([100]));
    expect(new Set(exact.moves.map((m) => m.to))).toEqual(new Set([100]));
    expect(exact.moves).toHaveLength(100);
  });
});
