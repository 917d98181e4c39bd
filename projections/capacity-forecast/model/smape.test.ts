import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smape } from './smape.ts';

describe('smape', () => {
  it('matches hand-computed values', () => {
    // 2·10/210 = 0.0952381, 2·20/380 = 0.1052632 → mean 0.1002506 → 10.02506 %
    expect(smape([100, 200], [110, 180])).toBeCloseTo(10.02506, 4);
    // 2·50/150 = 0.6666667 and an exact point → 33.33333 %
    expect(smape([50, 7], [100, 7])).toBeCloseTo(33.33333, 4);
    // opposite signs and a forecast of zero reach the maximum of 200 %
    expect(smape([10], [0])).toBe(200);
  });

  it('counts a pair of zeros as a perfect forecast', () => {
    expect(smape([0, 0, 4], [0, 0, 4])).toBe(0);
  });

  it('is symmetric in actual and forecast and lies in [0, 200]', () => {
    const values = fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(values, values, (a, b) => {
        const n = Math.min(a.length, b.length);
        const x = a.slice(0, n);
        const y = b.slice(0, n);
        const value = smape(x, y);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(200);
        expect(value).toBeCloseTo(smape(y, x), 9);
      }),
    );
  });

  it('rejects vectors of different lengths or empty ones', () => {
    expect(() => smape([1, 2], [1])).toThrow(RangeError);
    expect(() => smape([], [])).toThrow(RangeError);
  });
});
