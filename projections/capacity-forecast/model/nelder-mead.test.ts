import { describe, expect, it } from 'vitest';
import { nelderMead } from './nelder-mead.ts';

const rosenbrock = ([x = 0, y = 0]: readonly number[]): number => 100 * (y - x * x) ** 2 + (1 - x) ** 2;

describe('nelderMead', () => {
  it('finds the minimum of the Rosenbrock function from the classic start (−1.2, 1)', () => {
    const result = nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 5000, fTolerance: 1e-14, xTolerance: 1e-9 });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 4);
    expect(result.x[1]).toBeCloseTo(1, 4);
    expect(result.value).toBeLessThan(1e-8);
  });

  it('finds the centre of a shifted, scaled quadratic bowl in 4 dimensions', () => {
    const centre = [3, -2, 0.5, 10];
    const bowl = (x: readonly number[]): number => x.reduce((s, xi, i) => s + (i + 1) * (xi - centre[i]!) ** 2, 0);
    const result = nelderMead(bowl, [0, 0, 0, 0], { step: 1, maxIterations: 5000 });
    result.x.forEach((xi, i) => expect(xi).toBeCloseTo(centre[i]!, 4));
  });

  it('treats a non-finite value as a rejected point', () => {
    const bounded = ([x = 0]: readonly number[]): number => (x < 0 ? Number.NaN : (x - 2) ** 2);
    expect(nelderMead(bounded, [1]).x[0]).toBeCloseTo(2, 4);
  });

  it('stops at maxIterations without converging', () => {
    const result = nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 5 });
    expect(result.iterations).toBe(5);
    expect(result.converged).toBe(false);
  });
});
