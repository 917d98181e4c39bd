/**
 * Arithmetic over resource records (quota or capacity), dimension by dimension.
 * Dimensions are listed explicitly so every check names the one that failed.
 */
import { invalid, requireInt } from './validation.ts';

export type Amounts<D extends string> = Record<D, number>;

export const zero = <D extends string>(dims: readonly D[]): Amounts<D> =>
  Object.fromEntries(dims.map((d) => [d, 0])) as Amounts<D>;

export const add = <D extends string>(dims: readonly D[], a: Amounts<D>, b: Amounts<D>): Amounts<D> =>
  Object.fromEntries(dims.map((d) => [d, a[d] + b[d]])) as Amounts<D>;

export const subtract = <D extends string>(dims: readonly D[], a: Amounts<D>, b: Amounts<D>): Amounts<D> =>
  Object.fromEntries(dims.map((d) => [d, a[d] - b[d]])) as Amounts<D>;

export const sum = <D extends string>(dims: readonly D[], items: Iterable<Amounts<D>>): Amounts<D> => {
  let total = zero(dims);
  for (const item of items) total = add(dims, total, item);
  return total;
};

export const isZero = <D extends string>(dims: readonly D[], a: Amounts<D>): boolean => dims.every((d) => a[d] === 0);

export const sameAmounts = <D extends string>(dims: readonly D[], a: Amounts<D>, b: Amounts<D>): boolean =>
  dims.every((d) => a[d] === b[d]);

/** Only the listed dimensions, in order (drops extra fields a caller may send). */
export const pick = <D extends string>(dims: readonly D[], a: Amounts<D>): Amounts<D> =>
  Object.fromEntries(dims.map((d) => [d, a[d]])) as Amounts<D>;

export interface Shortfall<D extends string> {
  dimension: D;
  requested: number;
  available: number;
}

/** The first dimension where `used + requested` goes over `limit`, or null when all fit. */
export function firstShortfall<D extends string>(
  dims: readonly D[],
  limit: Amounts<D>,
  used: Amounts<D>,
  requested: Amounts<D>,
): Shortfall<D> | null {
  for (const dimension of dims) {
    const available = limit[dimension] - used[dimension];
    if (requested[dimension] > available) return { dimension, requested: requested[dimension], available: Math.max(0, available) };
  }
  return null;
}

/** Every dimension an integer in [min, max]; returns a copy holding only the dimensions. */
export function requireAmounts<D extends string>(
  field: string,
  dims: readonly D[],
  value: unknown,
  bounds: { min?: number; max?: number } = {},
): Amounts<D> {
  if (typeof value !== 'object' || value === null) throw invalid(field, 'must be an object', { dimensions: dims });
  const record = value as Record<string, unknown>;
  return Object.fromEntries(dims.map((d) => [d, requireInt(`${field}.${d}`, record[d], bounds)])) as Amounts<D>;
}
