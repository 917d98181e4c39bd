/** Routing model: for a tenant and a client location, the regions to use in failover order, with traffic weights. Pure. */
export { exclusionReason, headroom, type ExclusionReason } from './eligibility.ts';
export { EARTH_RADIUS_KM, haversineKm } from './geo.ts';
export { estimateLatencyMs, LATENCY_MODEL, measuredMs, modelLatencyMs } from './latency.ts';
export { DEFAULT_HYBRID_WEIGHTS, DEFAULT_MIN_HEADROOM, routeRegions } from './route.ts';
export { DEFAULT_TEMPERATURE, softmaxWeights } from './weights.ts';
export * from './types.ts';
