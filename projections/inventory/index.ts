/** The inventory & usage projection: VMs, tenants, nodes, regions and clusters as the API lists them. */
export { createInventoryProjection, INVENTORY, inventoryProjection } from './projection.ts';
export { CURSOR_PATTERN, DEFAULT_PAGE, MAX_PAGE } from './cursor.ts';
export type { InventoryQueries, NodeFilter, RegionFilter, TenantFilter, VmFilter } from './queries.ts';
export { INVENTORY_EVENTS, NODE_STATUSES, REGION_STATUSES, TENANT_STATUSES, VM_STATES } from './types.ts';
export type {
  CapacityAmounts,
  ClusterRecord,
  NodeDetail,
  NodeRecord,
  NodeStatus,
  Page,
  PendingReservation,
  PlacementNodeRecord,
  QuotaAmounts,
  RegionRecord,
  RegionStatus,
  RegionTotals,
  TenantRecord,
  TenantStatus,
  VmLifecycle,
  VmMigration,
  VmRecord,
} from './types.ts';
