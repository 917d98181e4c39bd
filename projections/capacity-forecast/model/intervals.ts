import type { Forecast } from './types.ts';

/** Two-sided normal quantiles: 80% and 95% central intervals. */
export const Z80 = 1.2816;
export const Z95 = 1.96;

/** Normal prediction intervals around `mean` from the h-step error variances. */
export function withIntervals(mean: readonly number[], variance: readonly number[]): Forecast {
  const sd = variance.map((v) => Math.sqrt(Math.max(0, v)));
  return {
    mean: [...mean],
    lower80: mean.map((m, i) => m - Z80 * sd[i]!),
    upper80: mean.map((m, i) => m + Z80 * sd[i]!),
    lower95: mean.map((m, i) => m - Z95 * sd[i]!),
    upper95: mean.map((m, i) => m + Z95 * sd[i]!),
  };
}

export function assertHorizon(h: number): void {
  if (!Number.isInteger(h) || h < 1) throw new RangeError(`forecast: h must be a positive integer, got ${h}`);
}
