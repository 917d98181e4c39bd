import { describe, expect, it } from 'vitest';
import { holtWinters } from './holt-winters.ts';
import { syntheticSeries } from './synthetic-series.ts';

describe('holtWinters', () => {
  it('continues a pure linear trend exactly', () => {
    const series = Array.from({ length: 3 * 168 }, (_, t) => 500 + 2 * t);
    const { mean } = holtWinters.fit(series).forecast(168);
    mean.forEach((v, i) => expect(v).toBeCloseTo(500 + 2 * (series.length + i), 6));
  });

  it('reproduces a noiseless trend + daily + weekly series with both seasons', () => {
    const series = syntheticSeries({ hours: 12 * 168, seed: 1, noiseSd: 0 });
    const truth = syntheticSeries({ hours: 14 * 168, seed: 1, noiseSd: 0 }).slice(series.length);
    const forecaster = holtWinters.fit(series);
    expect(forecaster.params.gammaWeekly).toBeDefined();
    const { mean } = forecaster.forecast(2 * 168);
    mean.forEach((v, i) => expect(v).toBeCloseTo(truth[i]!, 6));
  });

  it('uses the daily season only under 2 weeks of history', () => {
    const series = Array.from({ length: 10 * 24 }, (_, t) => 100 + 0.5 * t + 20 * Math.sin((2 * Math.PI * t) / 24));
    const forecaster = holtWinters.fit(series);
    expect(forecaster.params.gammaWeekly).toBeUndefined();
    const { mean } = forecaster.forecast(48);
    mean.forEach((v, i) => {
      const t = series.length + i;
      expect(v).toBeCloseTo(100 + 0.5 * t + 20 * Math.sin((2 * Math.PI * t) / 24), 6);
    });
  });

  it('learns smoothing parameters within their bounds and intervals that nest and widen', () => {
    const forecaster = holtWinters.fit(syntheticSeries({ hours: 8 * 168, seed: 4 }));
    const { alpha, beta, gammaDaily, gammaWeekly } = forecaster.params;
    expect(alpha).toBeGreaterThan(0);
    expect(alpha).toBeLessThan(1);
    expect(beta).toBeGreaterThanOrEqual(0);
    expect(beta).toBeLessThanOrEqual(alpha!);
    expect(gammaDaily! + alpha!).toBeLessThanOrEqual(1);
    expect(gammaWeekly! + alpha!).toBeLessThanOrEqual(1);
    // the generator's noise is 40: the one-step error is that plus the error of the learnt states
    expect(Math.sqrt(forecaster.sigma2)).toBeGreaterThan(38);
    expect(Math.sqrt(forecaster.sigma2)).toBeLessThan(50);
    const f = forecaster.forecast(500);
    for (let i = 0; i < 500; i++) {
      expect(f.lower95[i]).toBeLessThan(f.lower80[i]!);
      expect(f.lower80[i]).toBeLessThan(f.mean[i]!);
      expect(f.upper80[i]).toBeLessThan(f.upper95[i]!);
      if (i > 0) expect(f.upper95[i]! - f.lower95[i]!).toBeGreaterThanOrEqual(f.upper95[i - 1]! - f.lower95[i - 1]! - 1e-9);
    }
  });

  it('rejects a series shorter than 2 days', () => {
    expect(() => holtWinters.fit(Array.from({ length: 47 }, () => 1))).toThrow(RangeError);
    expect(() => holtWinters.fit(Array.from({ length: 200 }, () => 1), { weekly: true })).toThrow(RangeError);
  });
});
