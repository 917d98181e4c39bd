import type { EventDataMap } from '../../schemas/generated/events.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';

/** Every event of the tenant, vm, node, region and cluster streams: the inventory applies them all. */
export const INVENTORY_EVENTS = [
  'TenantCreated',
  'TenantQuotaChanged',
  'TenantSuspended',
  'TenantReactivated',
  'TenantDeleted',
  'QuotaReserved',
  'QuotaCommitted',
  'QuotaReleased',
  'VmCreated',
  'VmStarted',
  'VmStopped',
  'VmRestarted',
  'VmPaused',
  'VmResumed',
  'VmResized',
  'VmMigrationStarted',
  'VmMigrationCompleted',
  'VmMigrationFailed',
  'VmSnapshotTaken',
  'VmDeleted',
  'VmFailed',
  'NodeRegistered',
  'NodeCapacityChanged',
  'NodeCordoned',
  'NodeUncordoned',
  'NodeDrainStarted',
  'NodeFailed',
  'NodeDecommissioned',
  'CapacityReserved',
  'CapacityCommitted',
  'CapacityReleased',
  'RegionAdded',
  'RegionUpdated',
  'RegionRetired',
  'ClusterJoined',
  'ClusterLeft',
  'ClusterHealthReported',
] as const;

export type InventoryEventType = (typeof INVENTORY_EVENTS)[number];
/** The recorded events of these types, as a union discriminated by `type`. */
export type InventoryEventOf<T extends InventoryEventType> = { [K in T]: RecordedEvent<K, EventDataMap[K]> }[T];
export type InventoryEvent = InventoryEventOf<InventoryEventType>;

const HANDLED: ReadonlySet<string> = new Set(INVENTORY_EVENTS);

/**
 * Narrows a recorded event to the inventory's typed union. Sound: the store
 * validated the data against the event's Avro schema before appending it and
 * upcasts old versions on read, so data has the generated type of its event type.
 */
export const asInventoryEvent = (event: RecordedEvent): InventoryEvent | null =>
  HANDLED.has(event.type) ? (event as unknown as InventoryEvent) : null;

/** Where an event sits: what a row records of the event that created or last changed it. */
export interface EventPlace {
  revision: number;
  position: number;
  metadata: { occurredAt: string };
}

export interface QuotaAmounts {
  vms: number;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

export interface CapacityAmounts {
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

/** When a row was created and last changed: the revision and position of those events, and their `occurredAt`. */
export interface Versioned {
  createdRevision: number;
  createdPosition: number;
  createdAt: string;
  /** Revision of the last event of the entity's stream applied. */
  revision: number;
  position: number;
  updatedAt: string;
}

export type VmLifecycle = 'stopped' | 'running' | 'paused' | 'migrating' | 'failed' | 'deleted';
export const VM_STATES: readonly VmLifecycle[] = ['stopped', 'running', 'paused', 'migrating', 'failed', 'deleted'];

export interface VmMigration {
  migrationId: string;
  kind: 'cold' | 'warm' | 'live';
  sourceNodeId: string;
  targetNodeId: string;
  targetRegionId: string;
  /** State the VM returns to when the migration ends. */
  resumeAs: 'running' | 'stopped';
}

export interface VmRecord extends Versioned {
  vmId: string;
  tenantId: string;
  name: string;
  state: VmLifecycle;
  nodeId: string;
  regionId: string;
  clusterId: string | null;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  image: string;
  snapshots: number;
  migration: VmMigration | null;
}

export type TenantStatus = 'active' | 'suspended' | 'deleted';
export const TENANT_STATUSES: readonly TenantStatus[] = ['active', 'suspended', 'deleted'];

export interface TenantRecord extends Versioned {
  tenantId: string;
  name: string;
  status: TenantStatus;
  allowedRegions: string[];
  quota: QuotaAmounts;
  /** What committed VMs use. */
  usage: QuotaAmounts;
  /** What pending reservations hold (VM creations and resizes in flight). */
  reserved: QuotaAmounts;
  /** Pending reservations. */
  reservations: number;
}

export type NodeStatus = 'active' | 'cordoned' | 'draining' | 'failed' | 'decommissioned';
export const NODE_STATUSES: readonly NodeStatus[] = ['active', 'cordoned', 'draining', 'failed', 'decommissioned'];

export interface NodeRecord extends Versioned {
  nodeId: string;
  regionId: string;
  clusterId: string | null;
  status: NodeStatus;
  capacity: CapacityAmounts;
  overcommitRatio: number;
  /** capacity × ratio for vCPUs and memory (rounded down); disk is never overcommitted. */
  allocatable: CapacityAmounts;
  allocated: CapacityAmounts;
  reserved: CapacityAmounts;
  reservations: number;
}

/** A node with the VMs it holds capacity for (sorted). */
export interface NodeDetail extends NodeRecord {
  vmIds: string[];
}

export interface PendingReservation {
  reservationId: string;
  vmId: string;
  resources: CapacityAmounts;
  expiresAt: string;
}

/** A node with its pending capacity reservations: what placement ranks. */
export interface PlacementNodeRecord extends NodeRecord {
  pending: PendingReservation[];
}

export type RegionStatus = 'active' | 'retired';
export const REGION_STATUSES: readonly RegionStatus[] = ['active', 'retired'];

export interface RegionTotals {
  /** Nodes not decommissioned. */
  nodes: number;
  /** VMs not deleted. */
  vms: number;
  /** Capacity and allocatable: nodes in service (neither failed nor decommissioned). Allocated: every node. */
  vcpus: { capacity: number; allocatable: number; allocated: number };
  memoryMiB: { capacity: number; allocatable: number; allocated: number };
}

export interface RegionRecord extends Versioned {
  regionId: string;
  name: string;
  lat: number;
  lon: number;
  complianceZone: string;
  costPerVcpuHour: number;
  shards: number;
  status: RegionStatus;
  totals: RegionTotals;
}

export interface ClusterRecord {
  clusterId: string;
  /** The region it is in while joined; the last one after it left. */
  regionId: string;
  status: 'joined' | 'left';
  /** Last reported health; null until the first report after joining. */
  healthy: boolean | null;
  revision: number;
  position: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}
