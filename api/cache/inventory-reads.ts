import { inventoryQueryTags } from '../../projections/cache-invalidation/index.ts';
import type { InventoryQueries, NodeFilter, RegionFilter, TenantFilter, VmFilter } from '../../projections/inventory/index.ts';
import type { QueryCache } from './query-cache.ts';

/** A cache key per query and arguments; `undefined` arguments are left out, so `{}` and `{ state: undefined }` share a key. */
const keyOf = (query: string, args: Record<string, string | number | undefined>): string =>
  `${query}\u0000${JSON.stringify(Object.entries(args).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/**
 * The inventory's queries through the L1 cache: each answer is cached under
 * its query and arguments, tagged with what it was read from, so the next
 * event that changes it evicts it. Not-found answers are cached too (the
 * entity's creation evicts them).
 */
export function createInventoryReads({ queries, cache }: { queries: () => InventoryQueries; cache: QueryCache }) {
  return {
    vm: (vmId: string) => cache.read('vm', keyOf('vm', { vmId }), () => ({ value: queries().getVm(vmId), tags: inventoryQueryTags.vm(vmId) })),
    vms(filter: VmFilter) {
      const { tenantId, nodeId, regionId, state, cursor, limit } = filter;
      return cache.read('vms', keyOf('vms', { tenantId, nodeId, regionId, state, cursor, limit }), () => {
        const page = queries().listVms(filter);
        return { value: page, tags: inventoryQueryTags.vms({ tenantId, nodeId, regionId, state }, page.items.map((v) => v.vmId)) };
      });
    },
    tenant: (tenantId: string) => cache.read('tenant', keyOf('tenant', { tenantId }), () => ({ value: queries().getTenant(tenantId), tags: inventoryQueryTags.tenant(tenantId) })),
    tenants: (filter: TenantFilter) =>
      cache.read('tenants', keyOf('tenants', { ...filter }), () => ({ value: queries().listTenants(filter), tags: inventoryQueryTags.tenants() })),
    node: (nodeId: string) => cache.read('node', keyOf('node', { nodeId }), () => ({ value: queries().getNode(nodeId), tags: inventoryQueryTags.node(nodeId) })),
    nodes: (filter: NodeFilter) => cache.read('nodes', keyOf('nodes', { ...filter }), () => ({ value: queries().listNodes(filter), tags: inventoryQueryTags.nodes() })),
    region: (regionId: string) => cache.read('region', keyOf('region', { regionId }), () => ({ value: queries().getRegion(regionId), tags: inventoryQueryTags.region(regionId) })),
    regions: (filter: RegionFilter) =>
      cache.read('regions', keyOf('regions', { ...filter }), () => ({ value: queries().listRegions(filter), tags: inventoryQueryTags.regions() })),
  };
}

export type InventoryReads = ReturnType<typeof createInventoryReads>;
