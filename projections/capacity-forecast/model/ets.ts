/**
 * The additive innovations state-space core shared by Holt-Winters and the
 * damped trend (ETS(A,Ad,A) with any number of additive seasons, Hyndman et al.
 * 2008, "Forecasting with Exponential Smoothing", ch. 3 and 6), in
 * error-correction form. Seasonal slots are indexed by absolute time:
 * season k at time t is seasons[k][t mod periods[k]].
 *
 *   ŷ_t  = ℓ + φ·b + Σ_k s_k[t]
 *   e_t  = y_t − ŷ_t
 *   ℓ   ← ℓ + φ·b + α·e_t
 *   b   ← φ·b + β·e_t
 *   s_k[t] ← s_k[t] + γ_k·e_t
 *
 * Holt-Winters is φ = 1 (β here is α·β* of the textbook recursion).
 */
export interface EtsParams {
  readonly alpha: number;
  readonly beta: number;
  readonly phi: number;
  readonly gammas: readonly number[];
}

export interface EtsState {
  level: number;
  trend: number;
  readonly seasons: Float64Array[];
}

export function cloneState(state: EtsState): EtsState {
  return { level: state.level, trend: state.trend, seasons: state.seasons.map((s) => s.slice()) };
}

/**
 * Runs the recursion over y from the given initial state. Returns the state
 * after the last point and the one-step errors' sum of squares over t ≥ scoreFrom.
 */
export function etsFilter(
  y: readonly number[],
  params: EtsParams,
  periods: readonly number[],
  initial: EtsState,
  scoreFrom: number,
): { state: EtsState; sse: number; count: number } {
  const { alpha, beta, phi, gammas } = params;
  const state = cloneState(initial);
  const { seasons } = state;
  const k = periods.length;
  let { level, trend } = state;
  let sse = 0;
  for (let t = 0; t < y.length; t++) {
    let seasonal = 0;
    for (let j = 0; j < k; j++) seasonal += seasons[j]![t % periods[j]!]!;
    const e = y[t]! - (level + phi * trend + seasonal);
    level = level + phi * trend + alpha * e;
    trend = phi * trend + beta * e;
    for (let j = 0; j < k; j++) seasons[j]![t % periods[j]!]! += gammas[j]! * e;
    if (t >= scoreFrom) sse += e * e;
  }
  state.level = level;
  state.trend = trend;
  return { state, sse, count: Math.max(0, y.length - scoreFrom) };
}

/** Point forecasts for times next, next+1, … (h of them) from the state after time next − 1. */
export function etsMean(state: EtsState, params: EtsParams, periods: readonly number[], next: number, h: number): number[] {
  const mean = new Array<number>(h);
  let damped = 0; // Σ_{i=1..step} φ^i
  let power = 1;
  for (let step = 1; step <= h; step++) {
    power *= params.phi;
    damped += power;
    let value = state.level + damped * state.trend;
    for (let j = 0; j < periods.length; j++) value += state.seasons[j]![(next + step - 1) % periods[j]!]!;
    mean[step - 1] = value;
  }
  return mean;
}

/**
 * h-step forecast error variance of the linear innovations model (Hyndman et
 * al. 2008, Table 6.1, class 1): σ²·(1 + Σ_{j=1}^{h−1} c_j²) with
 * c_j = α + β·Σ_{i=1}^{j} φ^i + Σ_k γ_k·[j ≡ 0 mod m_k].
 */
export function etsVariance(sigma2: number, params: EtsParams, periods: readonly number[], h: number): number[] {
  const variance = new Array<number>(h);
  let sum = 1;
  let damped = 0;
  let power = 1;
  variance[0] = sigma2;
  for (let j = 1; j < h; j++) {
    power *= params.phi;
    damped += power;
    let c = params.alpha + params.beta * damped;
    for (let k = 0; k < periods.length; k++) if (j % periods[k]! === 0) c += params.gammas[k]!;
    sum += c * c;
    variance[j] = sigma2 * sum;
  }
  return variance;
}
