import type { RoutingRegion } from './types.ts';

/** A small world of regions for the routing tests and bench. */
export const region = (regionId: string, lat: number, lon: number, rest: Partial<RoutingRegion> = {}): RoutingRegion => ({
  regionId,
  lat,
  lon,
  costPerVcpuHour: 0.05,
  retired: false,
  healthyClusters: 2,
  allocatedVcpus: 400,
  capacityVcpus: 1000,
  ...rest,
});

export const world: RoutingRegion[] = [
  region('eu-west-1', 53.35, -6.26, { costPerVcpuHour: 0.048, allocatedVcpus: 700 }), // Dublin
  region('eu-west-2', 51.51, -0.13, { costPerVcpuHour: 0.052, allocatedVcpus: 500 }), // London
  region('eu-central-1', 50.11, 8.68, { costPerVcpuHour: 0.055, allocatedVcpus: 200 }), // Frankfurt
  region('us-east-1', 38.95, -77.45, { costPerVcpuHour: 0.04, allocatedVcpus: 850 }), // Virginia
  region('ap-southeast-1', 1.35, 103.82, { costPerVcpuHour: 0.06, allocatedVcpus: 100 }), // Singapore
];

export const paris = { lat: 48.8566, lon: 2.3522 };
export const everyRegion = { allowedRegions: world.map((r) => r.regionId) };
