/**
 * Estimated round-trip time from a client to a region, in ms.
 *
 * Without a measurement, the distance model: 5 ms (access network and
 * processing) + distance_km / 100 km-per-ms × 1.5. Light in fibre covers
 * ~200 km/ms, so a round trip covers 100 km of great-circle distance per ms;
 * real paths are ~1.5× longer than the great circle (route factor). It gives
 * London–New York ≈ 89 ms (measured ≈ 70–80 ms): a little pessimistic, as
 * an estimate used to rank regions should be.
 *
 * With a latency matrix, in order:
 *  1. matrix[region][client cell]: the measured RTT to the client's cell;
 *  2. through the client's home region (the nearest region of all given,
 *     healthy or not; ties to the smaller regionId): model(client → home) +
 *     matrix[region][home]; for the home region itself, the distance model;
 *  3. the distance model.
 * Every lookup tries both directions (matrix[a][b], then matrix[b][a]).
 */
import type { LatencyMatrix } from './types.ts';

export const LATENCY_MODEL = { baseMs: 5, kmPerMs: 100, routeFactor: 1.5 } as const;

export const modelLatencyMs = (distanceKm: number): number =>
  LATENCY_MODEL.baseMs + (distanceKm / LATENCY_MODEL.kmPerMs) * LATENCY_MODEL.routeFactor;

/**
 * matrix[from][to] when it is a finite number ≥ 0. No own-property checks
 * needed: nothing inherited from Object.prototype is a number ('__proto__',
 * 'constructor' … fall through as unmeasured).
 */
function entry(matrix: LatencyMatrix, from: string, to: string): number | undefined {
  const row = matrix[from];
  if (typeof row !== 'object' || row === null) return undefined;
  const ms = row[to];
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A measured RTT between a region and a region or cell, in either direction. */
export const measuredMs = (matrix: LatencyMatrix, a: string, b: string): number | undefined =>
  entry(matrix, a, b) ?? entry(matrix, b, a);

export interface HomeRegion {
  readonly regionId: string;
  readonly distanceKm: number;
}

/** See the module comment; `home` is used only when the cell has no measurement. */
export function estimateLatencyMs(
  regionId: string,
  distanceKm: number,
  matrix: LatencyMatrix | undefined,
  cellId: string | undefined,
  home: HomeRegion | undefined,
): number {
  if (matrix === undefined) return modelLatencyMs(distanceKm);
  const toCell = cellId === undefined ? undefined : measuredMs(matrix, regionId, cellId);
  if (toCell !== undefined) return toCell;
  if (home !== undefined) {
    const via = home;
    if (via.regionId === regionId) return modelLatencyMs(distanceKm);
    const between = measuredMs(matrix, regionId, via.regionId);
    if (between !== undefined) return modelLatencyMs(via.distanceKm) + between;
  }
  return modelLatencyMs(distanceKm);
}
