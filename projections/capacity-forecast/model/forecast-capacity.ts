import { selectModel, type SelectModelOptions } from './select-model.ts';
import { HOURS_PER_DAY } from './series.ts';
import type { Forecast, ModelName } from './types.ts';

/** Hourly points cover the first 14 days; daily points the rest. */
export const HOURLY_POINTS = 14 * HOURS_PER_DAY;
/** Six months: the longest six consecutive calendar months have 184 days. */
export const MAX_HORIZON_HOURS = 184 * HOURS_PER_DAY;

export interface ForecastPoint {
  /** Hours after the last observed hour (1 = the next hour); a daily point starts at t and covers t .. t + 23. */
  t: number;
  mean: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
  resolution: 'hour' | 'day';
}

export interface CapacityForecast {
  model: ModelName;
  points: ForecastPoint[];
}

export interface ForecastCapacityOptions extends SelectModelOptions {
  /** 1 .. MAX_HORIZON_HOURS. */
  horizonHours: number;
}

/** Chooses a model by backtest (selectModel) and forecasts `horizonHours` ahead as points (toPoints). */
export function forecastCapacity(series: readonly number[], { horizonHours, ...selection }: ForecastCapacityOptions): CapacityForecast {
  if (!Number.isInteger(horizonHours) || horizonHours < 1 || horizonHours > MAX_HORIZON_HOURS) {
    throw new RangeError(`forecastCapacity: horizonHours must be an integer in 1..${MAX_HORIZON_HOURS}, got ${horizonHours}`);
  }
  const { model, forecaster } = selectModel(series, selection);
  return { model, points: toPoints(forecaster.forecast(horizonHours)) };
}

/**
 * Hourly points for the first 14 days, then one point per day (the last one
 * possibly partial). Allocations cannot be negative: every value is clamped at 0.
 *
 * A daily point's mean is the mean of its hourly means. Its bounds are the
 * envelope of its hours' bounds (lower = min of the hourly lowers, upper = max
 * of the hourly uppers): a band that holds each hour's interval, so a daily
 * point crosses a capacity exactly when one of its hours does, and shortfall
 * warnings do not depend on the resolution. It is deliberately not an interval
 * for the daily mean, which would be narrower and would hide the daily peak.
 */
export function toPoints(forecast: Forecast): ForecastPoint[] {
  const horizon = forecast.mean.length;
  const points: ForecastPoint[] = [];
  const at = (i: number, series: readonly number[]): number => Math.max(0, series[i]!);
  for (let i = 0; i < Math.min(horizon, HOURLY_POINTS); i++) {
    points.push({
      t: i + 1,
      mean: at(i, forecast.mean),
      lower80: at(i, forecast.lower80),
      upper80: at(i, forecast.upper80),
      lower95: at(i, forecast.lower95),
      upper95: at(i, forecast.upper95),
      resolution: 'hour',
    });
  }
  for (let start = HOURLY_POINTS; start < horizon; start += HOURS_PER_DAY) {
    const end = Math.min(horizon, start + HOURS_PER_DAY);
    let mean = 0;
    let lower80 = Number.POSITIVE_INFINITY;
    let lower95 = Number.POSITIVE_INFINITY;
    let upper80 = Number.NEGATIVE_INFINITY;
    let upper95 = Number.NEGATIVE_INFINITY;
    for (let i = start; i < end; i++) {
      mean += forecast.mean[i]! / (end - start);
      lower80 = Math.min(lower80, forecast.lower80[i]!);
      lower95 = Math.min(lower95, forecast.lower95[i]!);
      upper80 = Math.max(upper80, forecast.upper80[i]!);
      upper95 = Math.max(upper95, forecast.upper95[i]!);
    }
    points.push({
      t: start + 1,
      mean: Math.max(0, mean),
      lower80: Math.max(0, lower80),
      upper80: Math.max(0, upper80),
      lower95: Math.max(0, lower95),
      upper95: Math.max(0, upper95),
      resolution: 'day',
    });
  }
  return points;
}
