import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from './prng.ts';

describe('mulberry32', () => {
  it('repeats the same sequence for the same seed and a different one for another seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(first);
  });

  it('draws uniformly in [0, 1)', () => {
    const rng = mulberry32(1);
    const draws = Array.from({ length: 20_000 }, () => rng());
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(draws.reduce((s, v) => s + v, 0) / draws.length).toBeCloseTo(0.5, 2);
  });
});

describe('gaussian', () => {
  it('has mean 0 and variance 1', () => {
    const normal = gaussian(mulberry32(3));
    const draws = Array.from({ length: 40_000 }, () => normal());
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / draws.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });
});
