import { assertHorizon, withIntervals } from './intervals.ts';
import { assertSeries, defaultSeasonalPeriod } from './series.ts';
import type { ForecastModel, Forecaster } from './types.ts';

export interface SeasonalNaiveOptions {
  /** 168 (same hour last week), 24 (same hour yesterday) or 1 (last value). Default: 168 from 2 weeks of history, 24 from 2 days, else 1. */
  period?: number;
}

/**
 * Seasonal naive: ŷ_{n+h} = y_{n+h−m·k}, k = ⌊(h−1)/m⌋ + 1. σ² is the mean
 * squared in-sample error y_t − y_{t−m}; the h-step variance is
 * σ²·(⌊(h−1)/m⌋ + 1) (Hyndman & Athanasopoulos, FPP3 §5.5).
 */
export const seasonalNaive: ForecastModel<SeasonalNaiveOptions> = {
  name: 'seasonal-naive',
  minLength: 2,
  fit(series, { period = defaultSeasonalPeriod(series.length) } = {}) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError(`seasonal-naive: period must be a positive integer, got ${period}`);
    assertSeries(series, period + 1, 'seasonal-naive');
    const n = series.length;
    let sse = 0;
    for (let t = period; t < n; t++) sse += (series[t]! - series[t - period]!) ** 2;
    const sigma2 = sse / (n - period);
    const lastCycle = series.slice(n - period);

    const forecaster: Forecaster = {
      model: 'seasonal-naive',
      sigma2,
      params: { period },
      forecast(h) {
        assertHorizon(h);
        const mean = new Array<number>(h);
        const variance = new Array<number>(h);
        for (let i = 0; i < h; i++) {
          mean[i] = lastCycle[i % period]!;
          variance[i] = sigma2 * (Math.floor(i / period) + 1);
        }
        return withIntervals(mean, variance);
      },
    };
    return forecaster;
  },
};
