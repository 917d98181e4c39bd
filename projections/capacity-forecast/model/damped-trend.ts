import { etsFilter, etsMean, etsVariance, type EtsParams, type EtsState } from './ets.ts';
import { assertHorizon, withIntervals } from './intervals.ts';
import { minimizeRelative } from './nelder-mead.ts';
import { assertSeries, defaultSeasonalPeriod, fromInterval, seasonalProfile, toInterval } from './series.ts';
import type { ForecastModel, Forecaster } from './types.ts';

export interface DampedTrendOptions {
  /**
   * Period of the seasonal profile removed before smoothing: 168 (hour of week),
   * 24 (hour of day) or 1 (none, plain damped Holt). Default: 168 from 2 weeks
   * of history, 24 from 2 days, else 1.
   */
  period?: number;
}

const PHI_MIN = 0.8;
const PHI_MAX = 0.98;
/** Points used for the initial level and trend (least squares). */
const INIT_POINTS = 48;

/**
 * Additive damped-trend Holt (ETS(A,Ad,N), φ ∈ [0.8, 0.98]) on the
 * deseasonalized series: a fixed additive profile (classical decomposition,
 * seasonalProfile) is removed, the damped trend smooths what is left, and the
 * profile is added back to the forecasts. α, β* (β = α·β*), φ minimize the
 * one-step SSE by Nelder–Mead.
 *
 * Intervals: σ² = SSE / (n − parameters), counting the smoothing parameters,
 * the 2 initial states and the profile's entries (the convention of R's
 * forecast::ets), widened by the analytic damped-trend h-step variance; the
 * profile is treated as known (its estimation error is not propagated).
 */
export const dampedTrend: ForecastModel<DampedTrendOptions> = {
  name: 'damped-trend',
  minLength: 8,
  fit(series, { period = defaultSeasonalPeriod(series.length) } = {}) {
    assertSeries(series, Math.max(8, period === 1 ? 0 : 2 * period), 'damped-trend');
    const n = series.length;
    const profile = period === 1 ? new Float64Array(1) : seasonalProfile(series, period);
    const adjusted = series.map((v, t) => v - profile[t % period]!);
    const initial = initialState(adjusted);

    const decode = (u: readonly number[]): EtsParams => {
      const alpha = toInterval(u[0]!, 1e-4, 0.999);
      return { alpha, beta: alpha * toInterval(u[1]!, 0, 1), phi: toInterval(u[2]!, PHI_MIN, PHI_MAX), gammas: [] };
    };
    const oneStepSse = (u: readonly number[]): number => etsFilter(adjusted, decode(u), [], initial, 0).sse;
    const start = [fromInterval(0.2, 1e-4, 0.999), fromInterval(0.1, 0, 1), fromInterval(0.9, PHI_MIN, PHI_MAX)];
    const x = minimizeRelative(oneStepSse, start);
    const params = decode(x);
    const { state, sse } = etsFilter(adjusted, params, [], initial, 0);
    const parameters = 3 + 2 + (period === 1 ? 0 : period - 1);
    const sigma2 = sse / Math.max(1, n - parameters);

    const forecaster: Forecaster = {
      model: 'damped-trend',
      sigma2,
      params: { alpha: params.alpha, beta: params.beta, phi: params.phi, period },
      forecast(h) {
        assertHorizon(h);
        const mean = etsMean(state, params, [], n, h).map((v, i) => v + profile[(n + i) % period]!);
        return withIntervals(mean, etsVariance(sigma2, params, [], h));
      },
    };
    return forecaster;
  },
};


/** Level and trend from a least-squares line through the first points. */
function initialState(z: readonly number[]): EtsState {
  const k = Math.min(z.length, INIT_POINTS);
  let sumT = 0;
  let sumZ = 0;
  for (let t = 0; t < k; t++) {
    sumT += t;
    sumZ += z[t]!;
  }
  const meanT = sumT / k;
  const meanZ = sumZ / k;
  let sxx = 0;
  let sxy = 0;
  for (let t = 0; t < k; t++) {
    sxx += (t - meanT) ** 2;
    sxy += (t - meanT) * (z[t]! - meanZ);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { level: meanZ - slope * (meanT + 1), trend: slope, seasons: [] };
}
