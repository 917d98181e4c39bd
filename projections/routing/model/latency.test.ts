import { describe, expect, it } from 'vitest';
import { estimateLatencyMs, modelLatencyMs } from './latency.ts';

const noHome = undefined;

describe('estimateLatencyMs', () => {
  it('models 5 ms + distance / 100 km-per-ms × route factor 1.5 without a matrix', () => {
    expect(modelLatencyMs(0)).toBe(5);
    expect(modelLatencyMs(5570)).toBeCloseTo(88.55, 6);
    expect(estimateLatencyMs('eu-west-1', 1000, undefined, 'cell-1', noHome)).toBe(20);
  });

  it("uses the measured RTT to the client's cell first, in either direction", () => {
    const matrix = { 'eu-west-1': { 'cell-paris': 12 }, 'cell-paris': { 'us-east-1': 81 } };
    expect(estimateLatencyMs('eu-west-1', 780, matrix, 'cell-paris', noHome)).toBe(12);
    expect(estimateLatencyMs('us-east-1', 6000, matrix, 'cell-paris', noHome)).toBe(81);
  });

  it('otherwise goes through the home region: access by the model plus the measured region-to-region RTT', () => {
    const matrix = { 'eu-west-1': { 'us-east-1': 70 } };
    const home = { regionId: 'eu-west-1', distanceKm: 200 };
    expect(estimateLatencyMs('us-east-1', 6000, matrix, undefined, home)).toBe(modelLatencyMs(200) + 70);
    expect(estimateLatencyMs('eu-west-1', 200, matrix, undefined, home)).toBe(modelLatencyMs(200));
    expect(estimateLatencyMs('ap-south-1', 7000, matrix, undefined, home)).toBe(modelLatencyMs(7000));
  });

  it('ignores entries that are not finite non-negative numbers, and inherited keys', () => {
    const matrix = { 'eu-west-1': { 'cell-a': -1, 'cell-b': Number.NaN } } as Record<string, Record<string, number>>;
    expect(estimateLatencyMs('eu-west-1', 100, matrix, 'cell-a', noHome)).toBe(modelLatencyMs(100));
    expect(estimateLatencyMs('eu-west-1', 100, matrix, 'cell-b', noHome)).toBe(modelLatencyMs(100));
    for (const [from, to] of [['constructor', 'toString'], ['__proto__', 'valueOf'], ['eu-west-1', '__proto__'], ['eu-west-1', 'length']]) {
      expect(estimateLatencyMs(from!, 100, matrix, to, noHome)).toBe(modelLatencyMs(100));
    }
  });
});
