import { describe, expect, it } from 'vitest';
import { dampedTrend } from './damped-trend.ts';
import { syntheticSeries } from './synthetic-series.ts';

describe('dampedTrend', () => {
  it('continues a pure linear trend closely over the next day, then flattens as φ^h', () => {
    const series = Array.from({ length: 500 }, (_, t) => 1000 + 2 * t);
    const forecaster = dampedTrend.fit(series, { period: 1 });
    const { phi } = forecaster.params;
    expect(phi).toBeGreaterThanOrEqual(0.8);
    expect(phi).toBeLessThanOrEqual(0.98);
    const { mean } = forecaster.forecast(24);
    // a damped trend gives up at most (h − Σφ^i)·slope of the line after h steps
    let damped = 0;
    mean.forEach((v, i) => {
      damped += phi! ** (i + 1);
      const truth = 1000 + 2 * (series.length + i);
      expect(Math.abs(v - truth) / truth).toBeLessThan(0.01);
      expect(truth - v).toBeLessThanOrEqual(2 * (i + 1 - damped) + 1);
    });
    const increments = mean.slice(1).map((v, i) => v - mean[i]!);
    increments.slice(1).forEach((d, i) => expect(d / increments[i]!).toBeCloseTo(phi!, 6));
  });

  it('removes and restores the hour-of-week profile from 2 weeks of history', () => {
    const series = syntheticSeries({ hours: 6 * 168, seed: 2, trendPerHour: 0, noiseSd: 0 });
    const forecaster = dampedTrend.fit(series);
    expect(forecaster.params.period).toBe(168);
    const truth = syntheticSeries({ hours: 7 * 168, seed: 2, trendPerHour: 0, noiseSd: 0 }).slice(series.length);
    forecaster.forecast(168).mean.forEach((v, i) => expect(v).toBeCloseTo(truth[i]!, 6));
  });

  it('has nested intervals that widen with the horizon', () => {
    const f = dampedTrend.fit(syntheticSeries({ hours: 4 * 168, seed: 3 })).forecast(300);
    for (let i = 1; i < 300; i++) {
      expect(f.upper95[i]! - f.lower95[i]!).toBeGreaterThan(f.upper95[i - 1]! - f.lower95[i - 1]!);
      expect(f.upper80[i]! - f.lower80[i]!).toBeLessThan(f.upper95[i]! - f.lower95[i]!);
    }
  });
});
