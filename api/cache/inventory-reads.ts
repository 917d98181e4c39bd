import { inventoryQueryTags } from '../../projections/cache-invalidation/index.ts';
import type { InventoryQueries, NodeFilter, RegionFilter, TenantFilter, VmFilter } from '../../projections/inventory/index.ts';
import type { ReadOptions, TieredCache } from './tiered-cache.ts';

/** A cache key per query and arguments; `undefined` arguments are left out, so `{}` and `{ state: undefined }` share a key. */
const keyOf = (query: string, args: Record<string, string | number | undefined>): string =>
  `${query}\u0000${JSON.stringify(Object.entries(args).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/**
 * The inventory's queries through the cache (L1, then L2 when Redis is
 * configured): each answer is cached under its query and arguments, tagged
 * with what it was read from, so the next event that changes it evicts it.
 * Not-found answers are cached too (the entity's creation evicts them).
 * `options.atLeast` makes it a session read (see TieredCache).
 */
export function createInventoryReads({ queries, cache }: { queries: () => InventoryQueries; cache: TieredCache }) {
  return {
    vm: (vmId: string, options?: ReadOptions) => cache.read('vm', keyOf('vm', { vmId }), () => ({ value: queries().getVm(vmId), tags: inventoryQueryTags.vm(vmId) }), options),
    vms(filter: VmFilter, options?: ReadOptions) {
      const { tenantId, nodeId, regionId, state, cursor, limit } = filter;
      return cache.read(
        'vms',
        keyOf('vms', { tenantId, nodeId, regionId, state, cursor, limit }),
        () => {
          const page = queries().listVms(filter);
          return { value: page, tags: inventoryQueryTags.vms({ tenantId, nodeId, regionId, state }, page.items.map((v) => v.vmId)) };
        },
        options,
      );
    },
    tenant: (tenantId: string, options?: ReadOptions) =>
      cache.read('tenant', keyOf('tenant', { tenantId }), () => ({ value: queries().getTenant(tenantId), tags: inventoryQueryTags.tenant(tenantId) }), options),
    tenants: (filter: TenantFilter, options?: ReadOptions) =>
      cache.read('tenants', keyOf('tenants', { ...filter }), () => ({ value: queries().listTenants(filter), tags: inventoryQueryTags.tenants() }), options),
    node: (nodeId: string, options?: ReadOptions) => cache.read('node', keyOf('node', { nodeId }), () => ({ value: queries().getNode(nodeId), tags: inventoryQueryTags.node(nodeId) }), options),
    nodes: (filter: NodeFilter, options?: ReadOptions) => cache.read('nodes', keyOf('nodes', { ...filter }), () => ({ value: queries().listNodes(filter), tags: inventoryQueryTags.nodes() }), options),
    region: (regionId: string, options?: ReadOptions) =>
      cache.read('region', keyOf('region', { regionId }), () => ({ value: queries().getRegion(regionId), tags: inventoryQueryTags.region(regionId) }), options),
    regions: (filter: RegionFilter, options?: ReadOptions) =>
      cache.read('regions', keyOf('regions', { ...filter }), () => ({ value: queries().listRegions(filter), tags: inventoryQueryTags.regions() }), options),
  };
}

export type InventoryReads = ReturnType<typeof createInventoryReads>;
