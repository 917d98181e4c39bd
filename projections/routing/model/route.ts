/**
 * Routes a tenant's client to regions: the filters first (eligibility.ts),
 * then the strategy's score (lower is better) orders the rest into failover
 * order, ties broken by regionId; weights come from the scores (weights.ts).
 *
 *   geo-proximity  haversine distance client → region, km
 *   latency        estimated RTT, ms (latency.ts: matrix, else distance model)
 *   cost           costPerVcpuHour
 *   least-loaded   utilization, allocated / capacity vCPUs
 *   hybrid         Σ weight_k × component_k / Σ weight_k over the four above,
 *                  each min–max normalized to [0, 1] across the candidates
 *
 * Pure: the same input always gives the same route, whatever the order of `regions`.
 */
import { NovaCronError } from '../../../streams/errors/index.ts';
import { exclusionReason } from './eligibility.ts';
import { distancesFrom } from './geo.ts';
import { estimateLatencyMs, type HomeRegion } from './latency.ts';
import { DEFAULT_TEMPERATURE, softmaxWeights } from './weights.ts';
import {
  ROUTING_STRATEGIES,
  type ClientLocation,
  type HybridWeights,
  type RouteEntry,
  type RouteOptions,
  type RoutingRegion,
  type RoutingStrategy,
  type RoutingTenant,
} from './types.ts';

export const DEFAULT_MIN_HEADROOM = 0.05;
/** Latency leads; distance mostly repeats it (the latency model is distance-based), so it gets less. */
export const DEFAULT_HYBRID_WEIGHTS: HybridWeights = Object.freeze({ distance: 0.1, latency: 0.4, cost: 0.25, load: 0.25 });

interface Candidate {
  regionId: string;
  distanceKm: number;
  estLatencyMs: number;
  cost: number;
  utilization: number;
  score: number;
}

const invalid = (field: string, message: string, value: unknown) =>
  new NovaCronError('NC_VALIDATION', `${field} ${message}`, { details: { field, value } });

const inRange = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

/** Validates the call; returns the hybrid weights' sum. */
function checkInput(client: ClientLocation, strategy: RoutingStrategy, minHeadroom: number, temperature: number, hybrid: HybridWeights): number {
  if (!ROUTING_STRATEGIES.includes(strategy)) throw invalid('strategy', `must be one of ${ROUTING_STRATEGIES.join(', ')}`, strategy);
  if (!inRange(client.lat, -90, 90)) throw invalid('client.lat', 'must be a number from -90 to 90', client.lat);
  if (!inRange(client.lon, -180, 180)) throw invalid('client.lon', 'must be a number from -180 to 180', client.lon);
  if (!inRange(minHeadroom, 0, 1)) throw invalid('minHeadroom', 'must be a number from 0 to 1', minHeadroom);
  if (!inRange(temperature, 1e-3, 1e3)) throw invalid('temperature', 'must be a number from 0.001 to 1000', temperature);
  const { distance, latency, cost, load } = hybrid;
  const total = distance + latency + cost + load;
  if (!(distance >= 0 && latency >= 0 && cost >= 0 && load >= 0 && total > 0 && Number.isFinite(total))) {
    throw invalid('hybridWeights', 'must be finite, non-negative and not all zero', hybrid);
  }
  return total;
}

/** Scales `value` into [0, 1] over [min, max]; 0 when the range is empty. */
const unit = (value: number, min: number, max: number) => (max > min ? (value - min) / (max - min) : 0);

function scoreHybrid(candidates: Candidate[], weights: HybridWeights, total: number): void {
  let dMin = Infinity, lMin = Infinity, cMin = Infinity, uMin = Infinity;
  let dMax = -Infinity, lMax = -Infinity, cMax = -Infinity, uMax = -Infinity;
  for (const c of candidates) {
    dMin = Math.min(dMin, c.distanceKm);
    dMax = Math.max(dMax, c.distanceKm);
    lMin = Math.min(lMin, c.estLatencyMs);
    lMax = Math.max(lMax, c.estLatencyMs);
    cMin = Math.min(cMin, c.cost);
    cMax = Math.max(cMax, c.cost);
    uMin = Math.min(uMin, c.utilization);
    uMax = Math.max(uMax, c.utilization);
  }
  for (const c of candidates) {
    c.score =
      (weights.distance * unit(c.distanceKm, dMin, dMax) +
        weights.latency * unit(c.estLatencyMs, lMin, lMax) +
        weights.cost * unit(c.cost, cMin, cMax) +
        weights.load * unit(c.utilization, uMin, uMax)) /
      total;
  }
}

function score(candidate: Candidate, strategy: Exclude<RoutingStrategy, 'hybrid'>): number {
  switch (strategy) {
    case 'geo-proximity':
      return candidate.distanceKm;
    case 'latency':
      return candidate.estLatencyMs;
    case 'cost':
      return candidate.cost;
    case 'least-loaded':
      return candidate.utilization;
    default: {
      const unknown: never = strategy;
      throw invalid('strategy', 'is unknown', unknown);
    }
  }
}

const byScore = (a: Candidate, b: Candidate) => a.score - b.score || (a.regionId < b.regionId ? -1 : a.regionId > b.regionId ? 1 : 0);

/** Sorts in place by score, then regionId: insertion sort for the usual few dozen regions, else the built-in sort. */
function sortByScore(candidates: Candidate[]): void {
  const n = candidates.length;
  if (n > 64) {
    candidates.sort(byScore);
    return;
  }
  for (let i = 1; i < n; i++) {
    const c = candidates[i]!;
    let j = i - 1;
    while (j >= 0 && byScore(candidates[j]!, c) > 0) {
      candidates[j + 1] = candidates[j]!;
      j--;
    }
    candidates[j + 1] = c;
  }
}

/** The regions the tenant's client should use, primary first, in failover order; [] when none may serve it. */
export function routeRegions(
  regions: readonly RoutingRegion[],
  tenant: RoutingTenant,
  client: ClientLocation,
  {
    strategy,
    minHeadroom = DEFAULT_MIN_HEADROOM,
    latencyMatrix,
    hybridWeights = DEFAULT_HYBRID_WEIGHTS,
    temperature = DEFAULT_TEMPERATURE,
  }: RouteOptions,
): RouteEntry[] {
  const hybridTotal = checkInput(client, strategy, minHeadroom, temperature, hybridWeights);
  const distanceTo = distancesFrom(client);

  // With a latency matrix, the client's home region (nearest of all, ties to the smaller id) may be needed.
  let home: HomeRegion | undefined;
  const candidates: Candidate[] = [];
  for (const region of regions) {
    let distanceKm = -1;
    if (latencyMatrix !== undefined && Number.isFinite(region.lat) && Number.isFinite(region.lon)) {
      distanceKm = distanceTo(region);
      if (home === undefined || distanceKm < home.distanceKm || (distanceKm === home.distanceKm && region.regionId < home.regionId)) {
        home = { regionId: region.regionId, distanceKm };
      }
    }
    if (exclusionReason(region, tenant, minHeadroom) !== null) continue;
    candidates.push({
      regionId: region.regionId,
      distanceKm: distanceKm < 0 ? distanceTo(region) : distanceKm,
      estLatencyMs: 0,
      cost: region.costPerVcpuHour,
      utilization: region.allocatedVcpus / region.capacityVcpus,
      score: 0,
    });
  }
  for (const c of candidates) c.estLatencyMs = estimateLatencyMs(c.regionId, c.distanceKm, latencyMatrix, client.cellId, home);

  if (strategy === 'hybrid') scoreHybrid(candidates, hybridWeights, hybridTotal);
  else for (const c of candidates) c.score = score(c, strategy);
  sortByScore(candidates);

  const scores = new Array<number>(candidates.length);
  for (let i = 0; i < candidates.length; i++) scores[i] = candidates[i]!.score;
  const weights = softmaxWeights(scores, temperature);
  const route = new Array<RouteEntry>(candidates.length);
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    route[i] = { regionId: c.regionId, weight: weights[i]!, score: c.score, distanceKm: c.distanceKm, estLatencyMs: c.estLatencyMs };
  }
  return route;
}
