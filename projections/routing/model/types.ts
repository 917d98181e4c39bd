/** What the routing model reads and answers; the routing-table projection fills these from region, cluster, node and tenant events. */

export const ROUTING_STRATEGIES = ['geo-proximity', 'latency', 'cost', 'least-loaded', 'hybrid'] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

/** Degrees: lat in [-90, 90], lon in [-180, 180]. */
export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
}

/** One region as routing sees it; regionIds are unique within a call. */
export interface RoutingRegion extends GeoPoint {
  readonly regionId: string;
  readonly costPerVcpuHour: number;
  readonly retired: boolean;
  /** Joined clusters whose last health report was healthy. */
  readonly healthyClusters: number;
  readonly allocatedVcpus: number;
  readonly capacityVcpus: number;
}

export interface RoutingTenant {
  /** Compliance: the only regions the tenant's traffic may go to. */
  readonly allowedRegions: readonly string[];
}

export interface ClientLocation extends GeoPoint {
  /** The client's network cell, when known: its measured latencies may sit in the latency matrix. */
  readonly cellId?: string;
}

/**
 * Measured round-trip times in ms: matrix[regionId][other], where other is
 * another regionId or a client cell id. Looked up in both directions.
 */
export type LatencyMatrix = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Relative importance of each normalized component in 'hybrid'; non-negative, not all zero, scaled to sum 1. */
export interface HybridWeights {
  readonly distance: number;
  readonly latency: number;
  readonly cost: number;
  readonly load: number;
}

export interface RouteOptions {
  readonly strategy: RoutingStrategy;
  /** Least free capacity share (1 − allocated/capacity) a region needs to take traffic; default 0.05. */
  readonly minHeadroom?: number;
  readonly latencyMatrix?: LatencyMatrix;
  readonly hybridWeights?: HybridWeights;
  /** Softmax temperature over the normalized score: lower sends more traffic to the primary; default 0.1. */
  readonly temperature?: number;
}

export interface RouteEntry {
  readonly regionId: string;
  /** Share of traffic; the weights of a route sum to 1 and never increase down the list. */
  readonly weight: number;
  /**
   * Lower is better, in the strategy's unit: km (geo-proximity), ms (latency),
   * cost per vCPU-hour (cost), utilization 0..1 (least-loaded), weighted
   * normalized score 0..1 (hybrid).
   */
  readonly score: number;
  readonly distanceKm: number;
  readonly estLatencyMs: number;
}
