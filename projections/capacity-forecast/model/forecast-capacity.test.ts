import { describe, expect, it } from 'vitest';
import { firstCrossing } from './first-crossing.ts';
import { HOURLY_POINTS, MAX_HORIZON_HOURS, forecastCapacity, toPoints, type ForecastPoint } from './forecast-capacity.ts';
import { withIntervals } from './intervals.ts';
import { syntheticSeries } from './synthetic-series.ts';

const SIX_MONTHS = 183 * 24;
const width = (p: ForecastPoint): number => p.upper95 - p.lower95;

describe('forecastCapacity', () => {
  const series = syntheticSeries({ hours: 10 * 168, seed: 42 });
  const { model, points } = forecastCapacity(series, { horizonHours: SIX_MONTHS });
  const hourly = points.filter((p) => p.resolution === 'hour');
  const daily = points.filter((p) => p.resolution === 'day');

  it('gives 14 days of hourly points, then one point per day up to 6 months', () => {
    expect(model).toBe('holt-winters');
    expect(hourly.map((p) => p.t)).toEqual(Array.from({ length: HOURLY_POINTS }, (_, i) => i + 1));
    expect(daily).toHaveLength(183 - 14);
    expect(daily.map((p) => p.t)).toEqual(Array.from({ length: 183 - 14 }, (_, d) => HOURLY_POINTS + 1 + 24 * d));
    expect(points).toEqual([...hourly, ...daily]);
  });

  it('nests the 80% interval in the 95% one around the mean', () => {
    for (const p of points) {
      expect(p.lower95).toBeLessThanOrEqual(p.lower80);
      expect(p.lower80).toBeLessThanOrEqual(p.mean);
      expect(p.mean).toBeLessThanOrEqual(p.upper80);
      expect(p.upper80).toBeLessThanOrEqual(p.upper95);
    }
  });

  it('widens its intervals with the horizon', () => {
    hourly.slice(1).forEach((p, i) => expect(width(p)).toBeGreaterThanOrEqual(width(hourly[i]!) - 1e-9));
    // daily bands also hold the day's cycle, which differs by weekday: compare the same weekday
    daily.slice(7).forEach((p, i) => expect(width(p)).toBeGreaterThan(width(daily[i]!)));
    expect(width(daily.at(-1)!)).toBeGreaterThan(2 * width(hourly[0]!));
  });

  it('rejects horizons beyond 6 months', () => {
    expect(() => forecastCapacity(series, { horizonHours: MAX_HORIZON_HOURS + 1 })).toThrow(RangeError);
    expect(() => forecastCapacity(series, { horizonHours: 0 })).toThrow(RangeError);
  });
});

describe('toPoints', () => {
  it('summarizes a day by the mean of its hourly means and the envelope of its hourly bounds', () => {
    const horizon = HOURLY_POINTS + 30;
    const mean = Array.from({ length: horizon }, (_, i) => 100 + (i % 24));
    const forecast = withIntervals(mean, Array.from({ length: horizon }, (_, i) => 1 + i / 100));
    const [day, partial, ...rest] = toPoints(forecast).slice(HOURLY_POINTS);
    expect(rest).toEqual([]);
    expect(day).toMatchObject({ t: HOURLY_POINTS + 1, resolution: 'day', mean: 111.5 });
    expect(day!.upper95).toBeCloseTo(Math.max(...forecast.upper95.slice(HOURLY_POINTS, HOURLY_POINTS + 24)), 12);
    expect(day!.lower80).toBeCloseTo(Math.min(...forecast.lower80.slice(HOURLY_POINTS, HOURLY_POINTS + 24)), 12);
    // the last day is partial: hours 361..366
    expect(partial).toMatchObject({ t: HOURLY_POINTS + 25, mean: 102.5 });
  });

  it('clamps negative allocations to 0', () => {
    const [point] = toPoints(withIntervals([1], [100]));
    expect(point).toMatchObject({ mean: 1, lower80: 0, lower95: 0 });
  });
});

describe('firstCrossing', () => {
  const point = (t: number, upper95: number): ForecastPoint => ({
    t,
    mean: upper95 - 10,
    lower80: upper95 - 15,
    upper80: upper95 - 5,
    lower95: upper95 - 20,
    upper95,
    resolution: 'hour',
  });

  it('returns the first point whose upper 95% bound exceeds the capacity, else null', () => {
    const points = [point(1, 90), point(2, 100), point(3, 101), point(4, 120)];
    expect(firstCrossing(points, 100)).toBe(points[2]);
    expect(firstCrossing(points, 120)).toBeNull();
    expect(firstCrossing([], 0)).toBeNull();
  });

  it('warns before a growing fleet outgrows its capacity, not long before, and not before the band reaches it', () => {
    const series = syntheticSeries({ hours: 10 * 168, seed: 42 });
    const { points } = forecastCapacity(series, { horizonHours: SIX_MONTHS });
    const truth = syntheticSeries({ hours: 10 * 168 + SIX_MONTHS, seed: 42, noiseSd: 0 }).slice(series.length);
    for (const [capacity, resolution] of [[3000, 'hour'], [3500, 'day'], [4000, 'day']] as const) {
      const crossing = firstCrossing(points, capacity);
      const outgrown = truth.findIndex((v) => v > capacity) + 1; // first hour the noiseless series exceeds it
      expect(crossing?.resolution).toBe(resolution);
      expect(points.filter((p) => p.t < crossing!.t).every((p) => p.upper95 <= capacity)).toBe(true);
      expect(crossing!.t).toBeLessThanOrEqual(outgrown);
      expect(crossing!.t).toBeGreaterThan(outgrown - 60 * 24);
    }
  });
});
