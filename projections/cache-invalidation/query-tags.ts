import type { VmFilter } from '../inventory/queries.ts';
import { tag } from './tags.ts';

/**
 * What each inventory query result is tagged with: every tag an event that
 * changes the result publishes (tags.ts). tags.property.test.ts checks it
 * against random event histories: whenever an event changes a result, the
 * event's tags and the result's tags meet.
 */
export const inventoryQueryTags = {
  vm: (vmId: string): string[] => [tag.vm(vmId)],
  /** A VM list: the VMs it shows (any change to one, leaving the list included) and its filters (a VM entering it). */
  vms(filter: Omit<VmFilter, 'cursor' | 'limit'>, vmIds: readonly string[]): string[] {
    const tags = vmIds.map(tag.vm);
    if (filter.tenantId !== undefined) tags.push(tag.vmsOfTenant(filter.tenantId));
    if (filter.nodeId !== undefined) tags.push(tag.vmsOnNode(filter.nodeId));
    if (filter.regionId !== undefined) tags.push(tag.vmsInRegion(filter.regionId), tag.vmsInAnyRegion);
    if (filter.tenantId === undefined && filter.nodeId === undefined && filter.regionId === undefined) tags.push(tag.vms);
    if (filter.state !== undefined) tags.push(tag.vmsInState(filter.state));
    return tags;
  },
  tenant: (tenantId: string): string[] => [tag.tenant(tenantId)],
  tenants: (): string[] => [tag.tenants],
  node: (nodeId: string): string[] => [tag.node(nodeId)],
  nodes: (): string[] => [tag.nodes],
  /** A region with its totals, which node, capacity and VM events move. */
  region: (regionId: string): string[] => [tag.region(regionId), tag.regions],
  regions: (): string[] => [tag.regions],
};
