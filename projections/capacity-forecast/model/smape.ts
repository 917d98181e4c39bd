/**
 * Symmetric mean absolute percentage error, in percent (0..200):
 * mean of 2·|F − A| / (|A| + |F|), a pair with A = F = 0 counting as 0.
 */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  if (actual.length !== forecast.length) {
    throw new RangeError(`smape: lengths differ (${actual.length} actual, ${forecast.length} forecast)`);
  }
  if (actual.length === 0) throw new RangeError('smape: needs at least one pair');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const f = forecast[i]!;
    const denominator = Math.abs(a) + Math.abs(f);
    if (denominator > 0) sum += (2 * Math.abs(f - a)) / denominator;
  }
  return (100 * sum) / actual.length;
}
