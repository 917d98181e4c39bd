import type Database from 'better-sqlite3';
import {
  exclusionReason,
  routeRegions,
  DEFAULT_MIN_HEADROOM,
  type ClientLocation,
  type ExclusionReason,
  type RouteEntry,
  type RouteOptions,
  type RoutingRegion,
  type RoutingStrategy,
} from './model/index.ts';

/** Why a region takes none of the tenant's traffic; 'unknown': the tenant may use it, but no such region was added. */
export type ExcludedReason = ExclusionReason | 'unknown';

export interface RouteAnswer {
  tenantId: string;
  strategy: RoutingStrategy;
  /** Primary first, in failover order; weights sum to 1. */
  routes: RouteEntry[];
  /** Every other region (and every allowed region the table does not know), by regionId. */
  excluded: Array<{ regionId: string; reason: ExcludedReason }>;
}

export interface RoutingTenantView {
  tenantId: string;
  allowedRegions: string[];
}

export interface RoutingQueries {
  /** Every region as routing sees it, by regionId. */
  regions(): RoutingRegion[];
  tenant(tenantId: string): RoutingTenantView | null;
  /**
   * The tenant's route from `client`, computed now from the table (routeRegions:
   * compliance and health filter first, then the strategy ranks). null when the
   * tenant is unknown or deleted. Throws NC_VALIDATION on a bad location or option.
   */
  route(tenantId: string, client: ClientLocation, options: RouteOptions): RouteAnswer | null;
}

interface RegionRow {
  region_id: string;
  lat: number | null;
  lon: number | null;
  cost_per_vcpu_hour: number | null;
  retired: number;
  healthy_clusters: number;
  allocated_vcpus: number;
  capacity_vcpus: number;
}

const byId = (a: { regionId: string }, b: { regionId: string }) => (a.regionId < b.regionId ? -1 : a.regionId > b.regionId ? 1 : 0);

export function createRoutingQueries(db: Database.Database): RoutingQueries {
  const regionRows = db.prepare<[], RegionRow>('SELECT * FROM routing_regions WHERE added = 1 ORDER BY region_id');
  const tenantRow = db.prepare<[string], { allowed_regions: string }>('SELECT allowed_regions FROM routing_tenants WHERE tenant_id = ?');

  const regions = (): RoutingRegion[] =>
    regionRows.all().map((r) => ({
      regionId: r.region_id,
      // Never null once added; NaN would exclude the region as 'invalid' rather than route it.
      lat: r.lat ?? Number.NaN,
      lon: r.lon ?? Number.NaN,
      costPerVcpuHour: r.cost_per_vcpu_hour ?? Number.NaN,
      retired: r.retired === 1,
      healthyClusters: r.healthy_clusters,
      allocatedVcpus: r.allocated_vcpus,
      capacityVcpus: r.capacity_vcpus,
    }));
  const tenant = (tenantId: string): RoutingTenantView | null => {
    const row = tenantRow.get(tenantId);
    return row ? { tenantId, allowedRegions: JSON.parse(row.allowed_regions) as string[] } : null;
  };

  return {
    regions,
    tenant,
    route(tenantId, client, options) {
      const found = tenant(tenantId);
      if (!found) return null;
      const all = regions();
      const routes = routeRegions(all, found, client, options);
      const routed = new Set(routes.map((r) => r.regionId));
      const minHeadroom = options.minHeadroom ?? DEFAULT_MIN_HEADROOM;
      const excluded: RouteAnswer['excluded'] = [];
      for (const region of all) {
        if (routed.has(region.regionId)) continue;
        // routeRegions routes every region without a reason; a region it left out has one.
        excluded.push({ regionId: region.regionId, reason: exclusionReason(region, found, minHeadroom) ?? 'invalid' });
      }
      const known = new Set(all.map((r) => r.regionId));
      for (const regionId of new Set(found.allowedRegions)) if (!known.has(regionId)) excluded.push({ regionId, reason: 'unknown' });
      return { tenantId, strategy: options.strategy, routes, excluded: excluded.sort(byId) };
    },
  };
}
