export interface NelderMeadOptions {
  /** Initial simplex edge: one number for every coordinate, or one per coordinate. Default 0.5. */
  step?: number | readonly number[];
  maxIterations?: number;
  /** Stop when the simplex's values differ by at most this (absolute)… */
  fTolerance?: number;
  /** …and its vertices lie within this distance of the best one (max norm). */
  xTolerance?: number;
}

export interface NelderMeadResult {
  x: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

interface Vertex {
  x: number[];
  value: number;
}

/**
 * Minimizes f by the Nelder–Mead simplex method with the standard coefficients
 * (reflection 1, expansion 2, contraction 0.5, shrink 0.5). Derivative-free;
 * a non-finite value is treated as +Infinity so that f may reject a point.
 */
export function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  { step = 0.5, maxIterations = 1000, fTolerance = 1e-10, xTolerance = 1e-8 }: NelderMeadOptions = {},
): NelderMeadResult {
  const n = x0.length;
  if (n === 0) throw new RangeError('nelderMead: x0 must have at least one coordinate');
  const evaluate = (x: number[]): Vertex => {
    const value = f(x);
    return { x, value: Number.isFinite(value) ? value : Number.POSITIVE_INFINITY };
  };
  const along = (from: readonly number[], to: readonly number[], t: number): number[] =>
    from.map((fi, i) => fi + t * ((to[i] ?? 0) - fi));

  const simplex: Vertex[] = [evaluate([...x0])];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    const edge = typeof step === 'number' ? step : (step[i] ?? 0.5);
    x[i] = (x[i] ?? 0) + edge;
    simplex.push(evaluate(x));
  }

  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const spread = Math.max(...simplex.map((v) => Math.max(...v.x.map((xi, i) => Math.abs(xi - (best.x[i] ?? 0))))));
    if (worst.value - best.value <= fTolerance && spread <= xTolerance) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i]! += simplex[k]!.x[i]! / n;

    const reflected = evaluate(along(centroid, worst.x, -1));
    if (reflected.value < best.value) {
      const expanded = evaluate(along(centroid, worst.x, -2));
      simplex[n] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < simplex[n - 1]!.value) {
      simplex[n] = reflected;
    } else {
      const outside = reflected.value < worst.value;
      const contracted = evaluate(along(centroid, worst.x, outside ? -0.5 : 0.5));
      if (contracted.value < (outside ? reflected.value : worst.value)) {
        simplex[n] = contracted;
      } else {
        for (let k = 1; k <= n; k++) simplex[k] = evaluate(along(best.x, simplex[k]!.x, 0.5));
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  const best = simplex[0]!;
  return { x: best.x, value: best.value, iterations, converged };
}

/**
 * Fits smoothing parameters: f scaled by its value at the start (so the
 * tolerance is relative), one Nelder–Mead run from x0 on the logit scale and
 * one restart from its result (the usual guard against a collapsed simplex).
 */
export function minimizeRelative(f: (x: readonly number[]) => number, x0: readonly number[]): number[] {
  const scale = Math.abs(f(x0)) || 1;
  const scaled = (x: readonly number[]): number => f(x) / scale;
  const tolerances = { maxIterations: 400, fTolerance: 1e-7, xTolerance: 1e-3 };
  const first = nelderMead(scaled, x0, { step: 1, ...tolerances });
  return nelderMead(scaled, first.x, { step: 0.5, ...tolerances }).x;
}
