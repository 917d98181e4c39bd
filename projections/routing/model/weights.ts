/**
 * Traffic weights from scores (lower is better), already sorted ascending:
 * a softmax over the min–max normalized score, w_i ∝ exp(−n_i / T) with
 * n_i = (s_i − min) / (max − min) ∈ [0, 1]. Scale-free (km, ms, $ and
 * utilization all work), never divides by a zero score, and keeps some weight
 * on every candidate: the primary gets the most; a region at the far end of
 * the range gets e^(−1/T) of the primary's weight (T = 0.1: 0.005%). Equal
 * scores get equal weights; a lone candidate gets 1.
 *
 * Caveat of min–max: one far outlier compresses everyone else toward the
 * primary's weight; lower T if that spreads traffic too wide.
 */
export const DEFAULT_TEMPERATURE = 0.1;

export function softmaxWeights(sortedScores: readonly number[], temperature: number): number[] {
  const n = sortedScores.length;
  if (n === 0) return [];
  const min = sortedScores[0]!;
  const range = sortedScores[n - 1]! - min;
  const raw = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const normalized = range > 0 ? (sortedScores[i]! - min) / range : 0;
    total += raw[i] = Math.exp(-normalized / temperature);
  }
  for (let i = 0; i < n; i++) raw[i] = raw[i]! / total;
  return raw;
}
