import { describe, expect, it } from 'vitest';
import { mulberry32 } from './prng.ts';
import { seasonalNaive } from './seasonal-naive.ts';
import { Z95 } from './intervals.ts';

const periodic = (period: number, cycles: number, seed: number): number[] => {
  const rng = mulberry32(seed);
  const shape = Array.from({ length: period }, () => 100 + 50 * rng());
  return Array.from({ length: period * cycles }, (_, t) => shape[t % period]!);
};

describe('seasonalNaive', () => {
  it('is exact on a purely periodic weekly series', () => {
    const series = periodic(168, 3, 5);
    const forecaster = seasonalNaive.fit(series);
    const { mean, lower95, upper95 } = forecaster.forecast(400);
    expect(forecaster.params.period).toBe(168);
    expect(forecaster.sigma2).toBe(0);
    expect(mean).toEqual(Array.from({ length: 400 }, (_, i) => series[(series.length + i) % 168]));
    expect(lower95).toEqual(mean);
    expect(upper95).toEqual(mean);
  });

  it('uses the same hour yesterday when the history is under 2 weeks', () => {
    const series = periodic(24, 10, 6);
    const forecaster = seasonalNaive.fit(series);
    expect(forecaster.params.period).toBe(24);
    expect(forecaster.forecast(48).mean).toEqual([...series.slice(-24), ...series.slice(-24)]);
  });

  it('widens its intervals as σ²·(⌊(h−1)/m⌋ + 1)', () => {
    const series = [1, 2, 3, 4, 6, 5, 7, 9];
    // period 2 errors: 2, 2, 3, 1, 1, 4 → σ² = 35 / 6
    const forecaster = seasonalNaive.fit(series, { period: 2 });
    expect(forecaster.sigma2).toBeCloseTo(35 / 6, 12);
    const { mean, upper95 } = forecaster.forecast(6);
    expect(mean).toEqual([7, 9, 7, 9, 7, 9]);
    const variance = upper95.map((u, i) => ((u - mean[i]!) / Z95) ** 2);
    [1, 1, 2, 2, 3, 3].forEach((k, i) => expect(variance[i]).toBeCloseTo((k * 35) / 6, 9));
  });

  it('rejects series too short for its period or with non-finite values', () => {
    expect(() => seasonalNaive.fit([1, 2, 3], { period: 3 })).toThrow(RangeError);
    expect(() => seasonalNaive.fit([1, Number.NaN, 3])).toThrow(RangeError);
  });
});
