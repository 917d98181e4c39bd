/**
 * Pure row rules of the inventory: the record an entity has after one of its
 * events, mirroring the aggregates' own `evolve` (commands/<aggregate>/state.ts)
 * for the fields the inventory shows. An event for an entity the inventory has
 * not seen leaves it absent, as the aggregate's evolve does. Reservation
 * ledgers (usage, reservations) are not here: see ledger.ts.
 */
import type {
  CapacityAmounts,
  ClusterRecord,
  EventPlace,
  InventoryEventOf,
  NodeRecord,
  RegionRecord,
  TenantRecord,
  Versioned,
  VmRecord,
} from './types.ts';

type VmEvent = InventoryEventOf<
  | 'VmCreated' | 'VmStarted' | 'VmStopped' | 'VmRestarted' | 'VmPaused' | 'VmResumed' | 'VmResized'
  | 'VmMigrationStarted' | 'VmMigrationCompleted' | 'VmMigrationFailed' | 'VmSnapshotTaken' | 'VmDeleted' | 'VmFailed'
>;
type TenantProfileEvent = InventoryEventOf<'TenantCreated' | 'TenantQuotaChanged' | 'TenantSuspended' | 'TenantReactivated' | 'TenantDeleted'>;
type NodeProfileEvent = InventoryEventOf<
  'NodeRegistered' | 'NodeCapacityChanged' | 'NodeCordoned' | 'NodeUncordoned' | 'NodeDrainStarted' | 'NodeFailed' | 'NodeDecommissioned'
>;
type RegionEvent = InventoryEventOf<'RegionAdded' | 'RegionUpdated' | 'RegionRetired'>;
type ClusterEvent = InventoryEventOf<'ClusterJoined' | 'ClusterLeft' | 'ClusterHealthReported'>;

/** The version columns of a record first seen at `event`. */
export const born = (event: EventPlace): Versioned => ({
  createdRevision: event.revision,
  createdPosition: event.position,
  createdAt: event.metadata.occurredAt,
  revision: event.revision,
  position: event.position,
  updatedAt: event.metadata.occurredAt,
});

/** `record` as changed by `event`: its revision, position and time, written into `record` — a copy the caller has just made, which no one else holds. */
export const stamped = <R extends Versioned>(record: R, event: EventPlace): R => {
  record.revision = event.revision;
  record.position = event.position;
  record.updatedAt = event.metadata.occurredAt;
  return record;
};

/** What a node can hand out: vCPUs and memory overcommitted (rounded down), disk never (as commands/node/state.ts). */
export const allocatableOf = (capacity: CapacityAmounts, ratio: number): CapacityAmounts => ({
  vcpus: Math.floor(capacity.vcpus * ratio + 1e-9),
  memoryMiB: Math.floor(capacity.memoryMiB * ratio + 1e-9),
  diskGiB: capacity.diskGiB,
});

const ZERO_CAPACITY: CapacityAmounts = { vcpus: 0, memoryMiB: 0, diskGiB: 0 };
const ZERO_QUOTA = { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 };

export function evolveVm(vm: VmRecord | null, event: VmEvent): VmRecord | null {
  if (event.type === 'VmCreated') {
    const d = event.data;
    return {
      vmId: d.vmId,
      tenantId: d.tenantId,
      name: d.name,
      state: 'stopped',
      nodeId: d.nodeId,
      regionId: d.regionId,
      clusterId: d.clusterId,
      vcpus: d.spec.vcpus,
      memoryMiB: d.spec.memoryMiB,
      diskGiB: d.spec.diskGiB,
      image: d.spec.image,
      snapshots: 0,
      migration: null,
      ...born(event),
    };
  }
  if (vm === null) return null;
  const next = ((): VmRecord => {
    switch (event.type) {
      case 'VmStarted':
      case 'VmResumed':
      case 'VmRestarted':
        return { ...vm, state: 'running' };
      case 'VmStopped':
        return { ...vm, state: 'stopped' };
      case 'VmPaused':
        return { ...vm, state: 'paused' };
      case 'VmResized':
        return { ...vm, vcpus: event.data.to.vcpus, memoryMiB: event.data.to.memoryMiB, diskGiB: event.data.to.diskGiB };
      case 'VmMigrationStarted': {
        const { migrationId, kind, sourceNodeId, targetNodeId, targetRegionId } = event.data;
        const resumeAs = vm.state === 'stopped' ? 'stopped' : 'running';
        return { ...vm, state: 'migrating', migration: { migrationId, kind, sourceNodeId, targetNodeId, targetRegionId, resumeAs } };
      }
      case 'VmMigrationCompleted':
        return {
          ...vm,
          state: vm.migration?.resumeAs ?? 'running',
          nodeId: event.data.targetNodeId,
          regionId: vm.migration?.targetRegionId ?? vm.regionId,
          migration: null,
        };
      case 'VmMigrationFailed':
        return { ...vm, state: vm.migration?.resumeAs ?? 'running', migration: null };
      case 'VmSnapshotTaken':
        return { ...vm, snapshots: vm.snapshots + 1 };
      case 'VmDeleted':
        return { ...vm, state: 'deleted', migration: null };
      case 'VmFailed':
        return { ...vm, state: 'failed', migration: null };
      default: {
        const never: never = event;
        throw new TypeError(`inventory: no VM rule for ${(never as EventPlace & { type: string }).type}`);
      }
    }
  })();
  return stamped(next, event);
}

export function evolveTenant(tenant: TenantRecord | null, event: TenantProfileEvent): TenantRecord | null {
  if (event.type === 'TenantCreated') {
    const { tenantId, name, quota, allowedRegions } = event.data;
    return {
      tenantId,
      name,
      status: 'active',
      allowedRegions: [...allowedRegions],
      quota: { vms: quota.vms, vcpus: quota.vcpus, memoryMiB: quota.memoryMiB, diskGiB: quota.diskGiB },
      usage: { ...ZERO_QUOTA },
      reserved: { ...ZERO_QUOTA },
      reservations: 0,
      ...born(event),
    };
  }
  if (tenant === null) return null;
  const next = ((): TenantRecord => {
    switch (event.type) {
      case 'TenantQuotaChanged': {
        const { quota } = event.data;
        return { ...tenant, quota: { vms: quota.vms, vcpus: quota.vcpus, memoryMiB: quota.memoryMiB, diskGiB: quota.diskGiB } };
      }
      case 'TenantSuspended':
        return { ...tenant, status: 'suspended' };
      case 'TenantReactivated':
        return { ...tenant, status: 'active' };
      case 'TenantDeleted':
        return { ...tenant, status: 'deleted' };
      default: {
        const never: never = event;
        throw new TypeError(`inventory: no tenant rule for ${(never as EventPlace & { type: string }).type}`);
      }
    }
  })();
  return stamped(next, event);
}

export function evolveNode(node: NodeRecord | null, event: NodeProfileEvent): NodeRecord | null {
  if (event.type === 'NodeRegistered') {
    const { nodeId, regionId, clusterId, capacity, overcommitRatio } = event.data;
    const cap = { vcpus: capacity.vcpus, memoryMiB: capacity.memoryMiB, diskGiB: capacity.diskGiB };
    return {
      nodeId,
      regionId,
      clusterId,
      status: 'active',
      capacity: cap,
      overcommitRatio,
      allocatable: allocatableOf(cap, overcommitRatio),
      allocated: { ...ZERO_CAPACITY },
      reserved: { ...ZERO_CAPACITY },
      reservations: 0,
      ...born(event),
    };
  }
  if (node === null) return null;
  const next = ((): NodeRecord => {
    switch (event.type) {
      case 'NodeCapacityChanged': {
        const { capacity, overcommitRatio } = event.data;
        const cap = { vcpus: capacity.vcpus, memoryMiB: capacity.memoryMiB, diskGiB: capacity.diskGiB };
        return { ...node, capacity: cap, overcommitRatio, allocatable: allocatableOf(cap, overcommitRatio) };
      }
      case 'NodeCordoned':
        return { ...node, status: 'cordoned' };
      case 'NodeUncordoned':
        return { ...node, status: 'active' };
      case 'NodeDrainStarted':
        return { ...node, status: 'draining' };
      case 'NodeFailed':
        return { ...node, status: 'failed' };
      case 'NodeDecommissioned':
        return { ...node, status: 'decommissioned' };
      default: {
        const never: never = event;
        throw new TypeError(`inventory: no node rule for ${(never as EventPlace & { type: string }).type}`);
      }
    }
  })();
  return stamped(next, event);
}

const EMPTY_TOTALS = { nodes: 0, vms: 0, vcpus: { capacity: 0, allocatable: 0, allocated: 0 }, memoryMiB: { capacity: 0, allocatable: 0, allocated: 0 } };

/** Region rows; their totals are kept by the region-totals table, not by region events. */
export function evolveRegion(region: RegionRecord | null, event: RegionEvent): RegionRecord | null {
  if (event.type === 'RegionAdded') {
    const { regionId, name, lat, lon, complianceZone, costPerVcpuHour, shards } = event.data;
    return { regionId, name, lat, lon, complianceZone, costPerVcpuHour, shards, status: 'active', totals: region?.totals ?? EMPTY_TOTALS, ...born(event) };
  }
  if (region === null) return null;
  const next = ((): RegionRecord => {
    switch (event.type) {
      case 'RegionUpdated': {
        const { name, lat, lon, complianceZone, costPerVcpuHour, shards } = event.data;
        return {
          ...region,
          name: name ?? region.name,
          lat: lat ?? region.lat,
          lon: lon ?? region.lon,
          complianceZone: complianceZone ?? region.complianceZone,
          costPerVcpuHour: costPerVcpuHour ?? region.costPerVcpuHour,
          shards: shards ?? region.shards,
        };
      }
      case 'RegionRetired':
        return { ...region, status: 'retired' };
      default: {
        const never: never = event;
        throw new TypeError(`inventory: no region rule for ${(never as EventPlace & { type: string }).type}`);
      }
    }
  })();
  return stamped(next, event);
}

export function evolveCluster(cluster: ClusterRecord | null, event: ClusterEvent): ClusterRecord | null {
  const at = { revision: event.revision, position: event.position };
  switch (event.type) {
    case 'ClusterJoined':
      return { clusterId: event.data.clusterId, regionId: event.data.regionId, status: 'joined', healthy: null, ...at };
    case 'ClusterLeft':
      return cluster === null ? null : { ...cluster, status: 'left', healthy: null, ...at };
    case 'ClusterHealthReported':
      return cluster === null ? null : { ...cluster, healthy: event.data.healthy, ...at };
    default: {
      const never: never = event;
      throw new TypeError(`inventory: no cluster rule for ${(never as EventPlace & { type: string }).type}`);
    }
  }
}
