export const HOURS_PER_DAY = 24;
export const HOURS_PER_WEEK = 168;

/** Throws a RangeError unless the series has at least `minLength` finite values. */
export function assertSeries(series: readonly number[], minLength: number, who: string): void {
  if (series.length < minLength) {
    throw new RangeError(`${who}: needs at least ${minLength} hourly points, got ${series.length}`);
  }
  for (let i = 0; i < series.length; i++) {
    if (!Number.isFinite(series[i])) throw new RangeError(`${who}: series[${i}] is not a finite number`);
  }
}

/**
 * Additive seasonal profile of period m (even) by classical decomposition:
 * trend = centred 2×m moving average, profile[k] = mean of (y − trend) over
 * t ≡ k (mod m), centred to sum to zero. Needs at least 2m points.
 */
export function seasonalProfile(y: readonly number[], m: number): Float64Array {
  const n = y.length;
  if (m % 2 !== 0 || n < 2 * m) throw new RangeError(`seasonalProfile: needs an even period and 2·${m} points`);
  const prefix = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) prefix[t + 1] = prefix[t]! + y[t]!;
  const half = m / 2;
  const sums = new Float64Array(m);
  const counts = new Float64Array(m);
  for (let t = half; t < n - half; t++) {
    const window = prefix[t + half + 1]! - prefix[t - half]! - 0.5 * (y[t - half]! + y[t + half]!);
    const k = t % m;
    sums[k]! += y[t]! - window / m;
    counts[k]! += 1;
  }
  const profile = new Float64Array(m);
  for (let k = 0; k < m; k++) profile[k] = sums[k]! / counts[k]!;
  return centre(profile);
}

/** Subtracts the mean so the values sum to zero (in place). */
export function centre(values: Float64Array): Float64Array {
  let mean = 0;
  for (const v of values) mean += v / values.length;
  for (let i = 0; i < values.length; i++) values[i]! -= mean;
  return values;
}

/** Maps an unconstrained number into (lo, hi) and back: the optimizer works on the real line. */
export function toInterval(u: number, lo: number, hi: number): number {
  return lo + (hi - lo) / (1 + Math.exp(-u));
}

export function fromInterval(x: number, lo: number, hi: number): number {
  const p = (x - lo) / (hi - lo);
  return Math.log(p / (1 - p));
}

/** The longest of 168 (hour of week), 24 (hour of day), 1 (none) with at least two whole cycles in n points. */
export function defaultSeasonalPeriod(n: number): number {
  if (n >= 2 * HOURS_PER_WEEK) return HOURS_PER_WEEK;
  if (n >= 2 * HOURS_PER_DAY) return HOURS_PER_DAY;
  return 1;
}
