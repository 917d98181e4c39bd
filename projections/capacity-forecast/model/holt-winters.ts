import { etsFilter, etsMean, etsVariance, type EtsParams, type EtsState } from './ets.ts';
import { assertHorizon, withIntervals } from './intervals.ts';
import { minimizeRelative } from './nelder-mead.ts';
import { HOURS_PER_DAY, HOURS_PER_WEEK, assertSeries, centre, fromInterval, toInterval } from './series.ts';
import type { ForecastModel, Forecaster } from './types.ts';

export interface HoltWintersOptions {
  /** Add the weekly season (168) to the daily one (24). Default: when the series has at least 2 weeks. */
  weekly?: boolean;
}

/**
 * Additive Holt-Winters with a daily season and, from 2 weeks of history, a
 * weekly one: Taylor's (2003) double-seasonal additive method, written as the
 * error-correction recursion of ets.ts with φ = 1.
 *
 * Initial states come from the first whole cycles of the longest season
 * (up to 2 weeks, or up to 7 days when daily only), always leaving at least one
 * cycle after them: trend from the difference of the cycle means, daily indices
 * from the detrended hour-of-day means, weekly indices from what is left by
 * hour of week. α, β* (β = α·β*), γ_daily, γ_weekly minimize the one-step SSE
 * over the points after that window (so the residuals are out-of-sample for the
 * initial states), by Nelder–Mead on logit-transformed parameters with
 * α ∈ (0, 1), β* ∈ (0, 1), γ ∈ (0, 1 − α).
 *
 * Intervals: σ² = SSE / (N − number of smoothing parameters), widened with the
 * analytic h-step variance of the state-space model (etsVariance).
 */
export const holtWinters: ForecastModel<HoltWintersOptions> = {
  name: 'holt-winters',
  minLength: 2 * HOURS_PER_DAY,
  fit(series, { weekly = series.length >= 2 * HOURS_PER_WEEK } = {}) {
    assertSeries(series, weekly ? 2 * HOURS_PER_WEEK : 2 * HOURS_PER_DAY, 'holt-winters');
    const periods = weekly ? [HOURS_PER_DAY, HOURS_PER_WEEK] : [HOURS_PER_DAY];
    const cycle = periods[periods.length - 1]!;
    const cycles = Math.min(weekly ? 2 : 7, Math.floor(series.length / cycle) - 1);
    const initLength = cycles * cycle;
    const initial = initialState(series, periods, cycles);

    const decode = (u: readonly number[]): EtsParams => {
      const alpha = toInterval(u[0]!, 1e-4, 0.999);
      return {
        alpha,
        beta: alpha * toInterval(u[1]!, 0, 1),
        phi: 1,
        gammas: periods.map((_, k) => (1 - alpha) * toInterval(u[2 + k]!, 0, 1)),
      };
    };
    const oneStepSse = (u: readonly number[]): number => etsFilter(series, decode(u), periods, initial, initLength).sse;
    const start = [fromInterval(0.1, 1e-4, 0.999), fromInterval(0.05, 0, 1), ...periods.map(() => fromInterval(0.1, 0, 1))];
    const x = minimizeRelative(oneStepSse, start);
    const params = decode(x);
    const { state, sse, count } = etsFilter(series, params, periods, initial, initLength);
    const sigma2 = sse / Math.max(1, count - (2 + periods.length));
    const n = series.length;

    const forecaster: Forecaster = {
      model: 'holt-winters',
      sigma2,
      params: {
        alpha: params.alpha,
        beta: params.beta,
        gammaDaily: params.gammas[0]!,
        ...(weekly ? { gammaWeekly: params.gammas[1]! } : {}),
        initLength,
      },
      forecast(h) {
        assertHorizon(h);
        return withIntervals(etsMean(state, params, periods, n, h), etsVariance(sigma2, params, periods, h));
      },
    };
    return forecaster;
  },
};

/** Heuristic initial states from the first `cycles` whole cycles of the longest period. */
function initialState(y: readonly number[], periods: readonly number[], cycles: number): EtsState {
  const cycle = periods[periods.length - 1]!;
  const length = cycles * cycle;
  const cycleMean = (c: number): number => {
    let sum = 0;
    for (let t = c * cycle; t < (c + 1) * cycle; t++) sum += y[t]!;
    return sum / cycle;
  };
  const first = cycleMean(0);
  const slope = cycles >= 2 ? (cycleMean(cycles - 1) - first) / (cycle * (cycles - 1)) : 0;
  const line = (t: number): number => first + slope * (t - (cycle - 1) / 2);

  const residual = new Float64Array(length);
  for (let t = 0; t < length; t++) residual[t] = y[t]! - line(t);
  const seasons = periods.map((m) => {
    const sums = new Float64Array(m);
    for (let t = 0; t < length; t++) sums[t % m]! += residual[t]!;
    for (let k = 0; k < m; k++) sums[k]! /= length / m;
    centre(sums);
    // What this season explains is not left for the longer ones.
    for (let t = 0; t < length; t++) residual[t]! -= sums[t % m]!;
    return sums;
  });
  return { level: line(-1), trend: slope, seasons };
}
