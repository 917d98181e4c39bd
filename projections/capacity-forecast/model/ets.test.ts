import { describe, expect, it } from 'vitest';
import { cloneState, etsMean, etsVariance, type EtsParams, type EtsState } from './ets.ts';
import { gaussian, mulberry32 } from './prng.ts';

/** Empirical h-step error variance: simulate the model's future from a known state and compare with its point forecast. */
function simulatedVariance(params: EtsParams, periods: number[], state: EtsState, h: number, runs: number): number[] {
  const noise = gaussian(mulberry32(11));
  const next = 1000;
  const mean = etsMean(state, params, periods, next, h);
  const sumSq = new Array<number>(h).fill(0);
  for (let r = 0; r < runs; r++) {
    const s = cloneState(state);
    for (let step = 0; step < h; step++) {
      const t = next + step;
      let seasonal = 0;
      periods.forEach((m, k) => (seasonal += s.seasons[k]![t % m]!));
      const e = noise();
      const y = s.level + params.phi * s.trend + seasonal + e;
      s.level = s.level + params.phi * s.trend + params.alpha * e;
      s.trend = params.phi * s.trend + params.beta * e;
      periods.forEach((m, k) => (s.seasons[k]![t % m]! += params.gammas[k]! * e));
      sumSq[step]! += (y - mean[step]!) ** 2;
    }
  }
  return sumSq.map((v) => v / runs);
}

describe('etsVariance (analytic h-step variance)', () => {
  it('matches simulation for additive Holt-Winters with two seasons', () => {
    const params: EtsParams = { alpha: 0.3, beta: 0.05, phi: 1, gammas: [0.2, 0.25] };
    const periods = [3, 6];
    const state: EtsState = { level: 10, trend: 0.5, seasons: [new Float64Array([1, -1, 0]), new Float64Array([2, 0, -2, 1, 0, -1])] };
    const analytic = etsVariance(1, params, periods, 14);
    const simulated = simulatedVariance(params, periods, state, 14, 40_000);
    simulated.forEach((v, i) => expect(Math.abs(v / analytic[i]! - 1)).toBeLessThan(0.04));
    expect(analytic[0]).toBe(1);
  });

  it('matches simulation for the damped trend', () => {
    const params: EtsParams = { alpha: 0.4, beta: 0.1, phi: 0.85, gammas: [] };
    const state: EtsState = { level: 5, trend: 1, seasons: [] };
    const analytic = etsVariance(1, params, [], 20);
    const simulated = simulatedVariance(params, [], state, 20, 40_000);
    simulated.forEach((v, i) => expect(Math.abs(v / analytic[i]! - 1)).toBeLessThan(0.04));
  });
});

describe('etsMean', () => {
  it('damps the trend: increments shrink by φ each step', () => {
    const params: EtsParams = { alpha: 0.5, beta: 0.1, phi: 0.9, gammas: [] };
    const mean = etsMean({ level: 100, trend: 10, seasons: [] }, params, [], 0, 4);
    expect(mean[0]).toBeCloseTo(109, 10);
    expect(mean[1]! - mean[0]!).toBeCloseTo(8.1, 10);
    expect(mean[2]! - mean[1]!).toBeCloseTo(7.29, 10);
  });
});
