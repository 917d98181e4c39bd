/** The inventory's rows as SQLite stores them, and their mapping to and from records. */
import type {
  ClusterRecord,
  NodeRecord,
  NodeStatus,
  RegionRecord,
  RegionStatus,
  RegionTotals,
  TenantRecord,
  TenantStatus,
  VmLifecycle,
  VmMigration,
  VmRecord,
} from './types.ts';
import { NODE_STATUSES, REGION_STATUSES, TENANT_STATUSES, VM_STATES } from './types.ts';

function oneOf<T extends string>(allowed: readonly T[], value: string, what: string): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new TypeError(`inventory: unknown ${what} ${JSON.stringify(value)} in the store`);
  return found;
}

interface VersionColumns {
  created_revision: number;
  created_position: number;
  created_at: string;
  revision: number;
  position: number;
  updated_at: string;
}

const versionOf = (r: VersionColumns) => ({
  createdRevision: r.created_revision,
  createdPosition: r.created_position,
  createdAt: r.created_at,
  revision: r.revision,
  position: r.position,
  updatedAt: r.updated_at,
});

const versionColumns = (r: VmRecord | TenantRecord | NodeRecord | RegionRecord): VersionColumns => ({
  created_revision: r.createdRevision,
  created_position: r.createdPosition,
  created_at: r.createdAt,
  revision: r.revision,
  position: r.position,
  updated_at: r.updatedAt,
});

// ── VMs ─────────────────────────────────────────────────────────────────────

export interface VmRow extends VersionColumns {
  vm_id: string;
  tenant_id: string;
  name: string;
  state: string;
  node_id: string;
  region_id: string;
  cluster_id: string | null;
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  image: string;
  snapshots: number;
  migration: string | null;
}

export const vmFromRow = (r: VmRow): VmRecord => ({
  vmId: r.vm_id,
  tenantId: r.tenant_id,
  name: r.name,
  state: oneOf<VmLifecycle>(VM_STATES, r.state, 'VM state'),
  nodeId: r.node_id,
  regionId: r.region_id,
  clusterId: r.cluster_id,
  vcpus: r.vcpus,
  memoryMiB: r.memory_mib,
  diskGiB: r.disk_gib,
  image: r.image,
  snapshots: r.snapshots,
  // Written by vmToRow from a VmMigration.
  migration: r.migration === null ? null : (JSON.parse(r.migration) as VmMigration),
  ...versionOf(r),
});

export const vmToRow = (v: VmRecord): VmRow => ({
  vm_id: v.vmId,
  tenant_id: v.tenantId,
  name: v.name,
  state: v.state,
  node_id: v.nodeId,
  region_id: v.regionId,
  cluster_id: v.clusterId,
  vcpus: v.vcpus,
  memory_mib: v.memoryMiB,
  disk_gib: v.diskGiB,
  image: v.image,
  snapshots: v.snapshots,
  migration: v.migration === null ? null : JSON.stringify(v.migration),
  ...versionColumns(v),
});

// ── tenants ─────────────────────────────────────────────────────────────────

export interface TenantRow extends VersionColumns {
  tenant_id: string;
  name: string;
  status: string;
  allowed_regions: string;
  quota_vms: number;
  quota_vcpus: number;
  quota_memory_mib: number;
  quota_disk_gib: number;
  used_vms: number;
  used_vcpus: number;
  used_memory_mib: number;
  used_disk_gib: number;
  reserved_vms: number;
  reserved_vcpus: number;
  reserved_memory_mib: number;
  reserved_disk_gib: number;
  reservations: number;
}

export const tenantFromRow = (r: TenantRow): TenantRecord => ({
  tenantId: r.tenant_id,
  name: r.name,
  status: oneOf<TenantStatus>(TENANT_STATUSES, r.status, 'tenant status'),
  // Written by tenantToRow from a string[].
  allowedRegions: JSON.parse(r.allowed_regions) as string[],
  quota: { vms: r.quota_vms, vcpus: r.quota_vcpus, memoryMiB: r.quota_memory_mib, diskGiB: r.quota_disk_gib },
  usage: { vms: r.used_vms, vcpus: r.used_vcpus, memoryMiB: r.used_memory_mib, diskGiB: r.used_disk_gib },
  reserved: { vms: r.reserved_vms, vcpus: r.reserved_vcpus, memoryMiB: r.reserved_memory_mib, diskGiB: r.reserved_disk_gib },
  reservations: r.reservations,
  ...versionOf(r),
});

export const tenantToRow = (t: TenantRecord): TenantRow => ({
  tenant_id: t.tenantId,
  name: t.name,
  status: t.status,
  allowed_regions: JSON.stringify(t.allowedRegions),
  quota_vms: t.quota.vms,
  quota_vcpus: t.quota.vcpus,
  quota_memory_mib: t.quota.memoryMiB,
  quota_disk_gib: t.quota.diskGiB,
  used_vms: t.usage.vms,
  used_vcpus: t.usage.vcpus,
  used_memory_mib: t.usage.memoryMiB,
  used_disk_gib: t.usage.diskGiB,
  reserved_vms: t.reserved.vms,
  reserved_vcpus: t.reserved.vcpus,
  reserved_memory_mib: t.reserved.memoryMiB,
  reserved_disk_gib: t.reserved.diskGiB,
  reservations: t.reservations,
  ...versionColumns(t),
});

// ── nodes ───────────────────────────────────────────────────────────────────

export interface NodeRow extends VersionColumns {
  node_id: string;
  region_id: string;
  cluster_id: string | null;
  status: string;
  capacity_vcpus: number;
  capacity_memory_mib: number;
  capacity_disk_gib: number;
  overcommit_ratio: number;
  allocatable_vcpus: number;
  allocatable_memory_mib: number;
  allocatable_disk_gib: number;
  allocated_vcpus: number;
  allocated_memory_mib: number;
  allocated_disk_gib: number;
  reserved_vcpus: number;
  reserved_memory_mib: number;
  reserved_disk_gib: number;
  reservations: number;
}

export const nodeFromRow = (r: NodeRow): NodeRecord => ({
  nodeId: r.node_id,
  regionId: r.region_id,
  clusterId: r.cluster_id,
  status: oneOf<NodeStatus>(NODE_STATUSES, r.status, 'node status'),
  capacity: { vcpus: r.capacity_vcpus, memoryMiB: r.capacity_memory_mib, diskGiB: r.capacity_disk_gib },
  overcommitRatio: r.overcommit_ratio,
  allocatable: { vcpus: r.allocatable_vcpus, memoryMiB: r.allocatable_memory_mib, diskGiB: r.allocatable_disk_gib },
  allocated: { vcpus: r.allocated_vcpus, memoryMiB: r.allocated_memory_mib, diskGiB: r.allocated_disk_gib },
  reserved: { vcpus: r.reserved_vcpus, memoryMiB: r.reserved_memory_mib, diskGiB: r.reserved_disk_gib },
  reservations: r.reservations,
  ...versionOf(r),
});

export const nodeToRow = (n: NodeRecord): NodeRow => ({
  node_id: n.nodeId,
  region_id: n.regionId,
  cluster_id: n.clusterId,
  status: n.status,
  capacity_vcpus: n.capacity.vcpus,
  capacity_memory_mib: n.capacity.memoryMiB,
  capacity_disk_gib: n.capacity.diskGiB,
  overcommit_ratio: n.overcommitRatio,
  allocatable_vcpus: n.allocatable.vcpus,
  allocatable_memory_mib: n.allocatable.memoryMiB,
  allocatable_disk_gib: n.allocatable.diskGiB,
  allocated_vcpus: n.allocated.vcpus,
  allocated_memory_mib: n.allocated.memoryMiB,
  allocated_disk_gib: n.allocated.diskGiB,
  reserved_vcpus: n.reserved.vcpus,
  reserved_memory_mib: n.reserved.memoryMiB,
  reserved_disk_gib: n.reserved.diskGiB,
  reservations: n.reservations,
  ...versionColumns(n),
});

// ── regions and clusters ────────────────────────────────────────────────────

export interface RegionTotalsRow {
  nodes: number;
  vms: number;
  vcpus_capacity: number;
  vcpus_allocatable: number;
  vcpus_allocated: number;
  memory_mib_capacity: number;
  memory_mib_allocatable: number;
  memory_mib_allocated: number;
}

export interface RegionRow extends VersionColumns, RegionTotalsRow {
  region_id: string;
  name: string;
  lat: number;
  lon: number;
  compliance_zone: string;
  cost_per_vcpu_hour: number;
  shards: number;
  status: string;
}

export const totalsFromRow = (r: RegionTotalsRow): RegionTotals => ({
  nodes: r.nodes,
  vms: r.vms,
  vcpus: { capacity: r.vcpus_capacity, allocatable: r.vcpus_allocatable, allocated: r.vcpus_allocated },
  memoryMiB: { capacity: r.memory_mib_capacity, allocatable: r.memory_mib_allocatable, allocated: r.memory_mib_allocated },
});

export const totalsToRow = (t: RegionTotals): RegionTotalsRow => ({
  nodes: t.nodes,
  vms: t.vms,
  vcpus_capacity: t.vcpus.capacity,
  vcpus_allocatable: t.vcpus.allocatable,
  vcpus_allocated: t.vcpus.allocated,
  memory_mib_capacity: t.memoryMiB.capacity,
  memory_mib_allocatable: t.memoryMiB.allocatable,
  memory_mib_allocated: t.memoryMiB.allocated,
});

/** A region row joined with its totals (zero when the region has no nodes or VMs yet). */
export const regionFromRow = (r: RegionRow): RegionRecord => ({
  regionId: r.region_id,
  name: r.name,
  lat: r.lat,
  lon: r.lon,
  complianceZone: r.compliance_zone,
  costPerVcpuHour: r.cost_per_vcpu_hour,
  shards: r.shards,
  status: oneOf<RegionStatus>(REGION_STATUSES, r.status, 'region status'),
  totals: totalsFromRow(r),
  ...versionOf(r),
});

export const regionToRow = (g: RegionRecord) => ({
  region_id: g.regionId,
  name: g.name,
  lat: g.lat,
  lon: g.lon,
  compliance_zone: g.complianceZone,
  cost_per_vcpu_hour: g.costPerVcpuHour,
  shards: g.shards,
  status: g.status,
  ...versionColumns(g),
});

export interface ClusterRow {
  cluster_id: string;
  region_id: string;
  status: string;
  healthy: number | null;
  revision: number;
  position: number;
}

export const clusterFromRow = (r: ClusterRow): ClusterRecord => ({
  clusterId: r.cluster_id,
  regionId: r.region_id,
  status: oneOf<'joined' | 'left'>(['joined', 'left'], r.status, 'cluster status'),
  healthy: r.healthy === null ? null : r.healthy === 1,
  revision: r.revision,
  position: r.position,
});

export const clusterToRow = (c: ClusterRecord): ClusterRow => ({
  cluster_id: c.clusterId,
  region_id: c.regionId,
  status: c.status,
  healthy: c.healthy === null ? null : c.healthy ? 1 : 0,
  revision: c.revision,
  position: c.position,
});

/** The region-totals select list: a region's row LEFT JOINed with its totals. */
export const REGION_SELECT = `
  SELECT r.*,
    COALESCE(t.nodes, 0) AS nodes, COALESCE(t.vms, 0) AS vms,
    COALESCE(t.vcpus_capacity, 0) AS vcpus_capacity, COALESCE(t.vcpus_allocatable, 0) AS vcpus_allocatable,
    COALESCE(t.vcpus_allocated, 0) AS vcpus_allocated, COALESCE(t.memory_mib_capacity, 0) AS memory_mib_capacity,
    COALESCE(t.memory_mib_allocatable, 0) AS memory_mib_allocatable, COALESCE(t.memory_mib_allocated, 0) AS memory_mib_allocated
  FROM inv_regions r LEFT JOIN inv_region_totals t ON t.region_id = r.region_id`;
