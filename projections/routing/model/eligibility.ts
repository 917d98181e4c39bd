/**
 * The filters every route applies before any strategy ranks: compliance
 * (the tenant's allowed regions), then health and capacity. A region whose
 * numbers are not finite is never routable either.
 */
import type { RoutingRegion, RoutingTenant } from './types.ts';

export type ExclusionReason = 'not-allowed' | 'retired' | 'no-healthy-cluster' | 'no-headroom' | 'invalid';

/** Free share of the region's vCPU capacity; 0 when it has none. */
export const headroom = (region: RoutingRegion): number =>
  region.capacityVcpus > 0 ? 1 - region.allocatedVcpus / region.capacityVcpus : 0;

/** Why the region takes none of the tenant's traffic, or null when it may. */
export function exclusionReason(region: RoutingRegion, tenant: RoutingTenant, minHeadroom: number): ExclusionReason | null {
  if (!tenant.allowedRegions.includes(region.regionId)) return 'not-allowed';
  if (region.retired) return 'retired';
  if (!(region.healthyClusters >= 1)) return 'no-healthy-cluster';
  if (!(Number.isFinite(region.lat) && Number.isFinite(region.lon) && Number.isFinite(region.costPerVcpuHour))) return 'invalid';
  if (!(Number.isFinite(region.allocatedVcpus) && Number.isFinite(region.capacityVcpus))) return 'invalid';
  if (!(region.capacityVcpus > 0 && headroom(region) >= minHeadroom)) return 'no-headroom';
  return null;
}
