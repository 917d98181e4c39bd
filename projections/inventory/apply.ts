import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { evolveCluster, evolveNode, evolveRegion, evolveTenant, evolveVm, touched } from './evolve.ts';
import { createLedger, moved, type LedgerDelta } from './ledger.ts';
import {
  clusterFromRow,
  clusterToRow,
  nodeFromRow,
  nodeToRow,
  REGION_SELECT,
  regionFromRow,
  regionToRow,
  tenantFromRow,
  tenantToRow,
  vmFromRow,
  vmToRow,
  type ClusterRow,
  type NodeRow,
  type RegionRow,
  type RegionTotalsRow,
  type TenantRow,
  type VmRow,
} from './rows.ts';
import { asInventoryEvent, type CapacityAmounts, type InventoryEvent, type InventoryEventOf, type NodeRecord, type VmRecord } from './types.ts';

/** `INSERT … ON CONFLICT (key) DO UPDATE SET` every other column: the row as a whole replaces the stored one. */
function upsertSql(table: string, key: string, columns: readonly string[]): string {
  const others = columns.filter((c) => c !== key);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (${key}) DO UPDATE SET ${others.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}

const VERSION = ['created_revision', 'created_position', 'created_at', 'revision', 'position', 'updated_at'];
const VM_COLUMNS = ['vm_id', 'tenant_id', 'name', 'state', 'node_id', 'region_id', 'cluster_id', 'vcpus', 'memory_mib', 'disk_gib', 'image', 'snapshots', 'migration', ...VERSION];
const TENANT_COLUMNS = [
  'tenant_id', 'name', 'status', 'allowed_regions', 'quota_vms', 'quota_vcpus', 'quota_memory_mib', 'quota_disk_gib',
  'used_vms', 'used_vcpus', 'used_memory_mib', 'used_disk_gib', 'reserved_vms', 'reserved_vcpus', 'reserved_memory_mib', 'reserved_disk_gib',
  'reservations', ...VERSION,
];
const NODE_COLUMNS = [
  'node_id', 'region_id', 'cluster_id', 'status', 'capacity_vcpus', 'capacity_memory_mib', 'capacity_disk_gib', 'overcommit_ratio',
  'allocatable_vcpus', 'allocatable_memory_mib', 'allocatable_disk_gib', 'allocated_vcpus', 'allocated_memory_mib', 'allocated_disk_gib',
  'reserved_vcpus', 'reserved_memory_mib', 'reserved_disk_gib', 'reservations', ...VERSION,
];
const REGION_COLUMNS = ['region_id', 'name', 'lat', 'lon', 'compliance_zone', 'cost_per_vcpu_hour', 'shards', 'status', ...VERSION];
const CLUSTER_COLUMNS = ['cluster_id', 'region_id', 'status', 'healthy', 'revision', 'position'];
const TOTALS = ['nodes', 'vms', 'vcpus_capacity', 'vcpus_allocatable', 'vcpus_allocated', 'memory_mib_capacity', 'memory_mib_allocatable', 'memory_mib_allocated'] as const;

function prepare(db: Database.Database) {
  return {
    ledger: createLedger(db),
    appliedRevision: db.prepare<[string], { revision: number }>('SELECT revision FROM stream_revisions WHERE stream_id = ?'),
    putStreamRevision: db.prepare<[string, number, number]>(
      'INSERT INTO stream_revisions (stream_id, revision, position) VALUES (?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, position = excluded.position',
    ),
    vm: db.prepare<[string], VmRow>('SELECT * FROM inv_vms WHERE vm_id = ?'),
    putVm: db.prepare<[VmRow]>(upsertSql('inv_vms', 'vm_id', VM_COLUMNS)),
    tenant: db.prepare<[string], TenantRow>('SELECT * FROM inv_tenants WHERE tenant_id = ?'),
    putTenant: db.prepare<[TenantRow]>(upsertSql('inv_tenants', 'tenant_id', TENANT_COLUMNS)),
    node: db.prepare<[string], NodeRow>('SELECT * FROM inv_nodes WHERE node_id = ?'),
    putNode: db.prepare<[NodeRow]>(upsertSql('inv_nodes', 'node_id', NODE_COLUMNS)),
    region: db.prepare<[string], RegionRow>(`${REGION_SELECT} WHERE r.region_id = ?`),
    putRegion: db.prepare<[ReturnType<typeof regionToRow>]>(upsertSql('inv_regions', 'region_id', REGION_COLUMNS)),
    cluster: db.prepare<[string], ClusterRow>('SELECT * FROM inv_clusters WHERE cluster_id = ?'),
    putCluster: db.prepare<[ClusterRow]>(upsertSql('inv_clusters', 'cluster_id', CLUSTER_COLUMNS)),
    addTotals: db.prepare<[RegionTotalsRow & { region_id: string }]>(
      `INSERT INTO inv_region_totals (region_id, ${TOTALS.join(', ')}) VALUES (@region_id, ${TOTALS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (region_id) DO UPDATE SET ${TOTALS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
    ),
  };
}
type Statements = ReturnType<typeof prepare>;

// ── region totals ───────────────────────────────────────────────────────────

type Contribution = RegionTotalsRow & { region_id: string };
const NONE = (region_id: string): Contribution => ({ region_id, nodes: 0, vms: 0, vcpus_capacity: 0, vcpus_allocatable: 0, vcpus_allocated: 0, memory_mib_capacity: 0, memory_mib_allocatable: 0, memory_mib_allocated: 0 });

/** What a node adds to its region's totals: nothing once decommissioned; no capacity while failed. */
function nodeContribution(node: NodeRecord): Contribution {
  const c = NONE(node.regionId);
  if (node.status === 'decommissioned') return c;
  const inService = node.status !== 'failed';
  return {
    ...c,
    nodes: 1,
    vcpus_capacity: inService ? node.capacity.vcpus : 0,
    vcpus_allocatable: inService ? node.allocatable.vcpus : 0,
    vcpus_allocated: node.allocated.vcpus,
    memory_mib_capacity: inService ? node.capacity.memoryMiB : 0,
    memory_mib_allocatable: inService ? node.allocatable.memoryMiB : 0,
    memory_mib_allocated: node.allocated.memoryMiB,
  };
}

const vmContribution = (vm: VmRecord): Contribution => ({ ...NONE(vm.regionId), vms: vm.state === 'deleted' ? 0 : 1 });

/** Moves the totals from what `before` contributed to what `after` does (either may be absent). */
function shiftTotals(s: Statements, before: Contribution | null, after: Contribution | null): void {
  const changes = new Map<string, Contribution>();
  const add = (c: Contribution, sign: 1 | -1) => {
    const into = changes.get(c.region_id) ?? NONE(c.region_id);
    for (const column of TOTALS) into[column] += sign * c[column];
    changes.set(c.region_id, into);
  };
  if (before) add(before, -1);
  if (after) add(after, 1);
  for (const change of changes.values()) {
    if (TOTALS.some((column) => change[column] !== 0)) s.addTotals.run(change);
  }
}

// ── one rule per aggregate ──────────────────────────────────────────────────

type VmEventType = Extract<InventoryEvent['type'], `Vm${string}`>;

function applyVm(s: Statements, event: InventoryEventOf<VmEventType>): void {
  const row = s.vm.get(event.data.vmId);
  const before = row ? vmFromRow(row) : null;
  const after = evolveVm(before, event);
  if (after === null) return;
  s.putVm.run(vmToRow(after));
  shiftTotals(s, before && vmContribution(before), vmContribution(after));
}

function applyTenant(s: Statements, event: InventoryEventOf<'TenantCreated' | 'TenantQuotaChanged' | 'TenantSuspended' | 'TenantReactivated' | 'TenantDeleted'>): void {
  const row = s.tenant.get(event.data.tenantId);
  const after = evolveTenant(row ? tenantFromRow(row) : null, event);
  if (after === null) return;
  if (event.type === 'TenantCreated') s.ledger.clear(`tenant:${event.data.tenantId}`);
  s.putTenant.run(tenantToRow(after));
}

function applyQuota(s: Statements, event: InventoryEventOf<'QuotaReserved' | 'QuotaCommitted' | 'QuotaReleased'>): void {
  const row = s.tenant.get(event.data.tenantId);
  if (!row) return;
  const owner = `tenant:${event.data.tenantId}`;
  const d: LedgerDelta =
    event.type === 'QuotaReserved'
      ? s.ledger.reserve(owner, event.data.reservationId, event.data.vmId, event.data.resources, event.data.expiresAt)
      : event.type === 'QuotaCommitted'
        ? s.ledger.commit(owner, event.data.reservationId)
        : s.ledger.release(owner, event.data.reservationId, event.data.vmId, event.data.resources);
  const before = tenantFromRow(row);
  s.putTenant.run(tenantToRow(touched({
    ...before,
    usage: moved(before.usage, d.used),
    reserved: moved(before.reserved, d.reserved),
    reservations: before.reservations + d.reservations,
  }, event)));
}

function applyNode(
  s: Statements,
  event: InventoryEventOf<'NodeRegistered' | 'NodeCapacityChanged' | 'NodeCordoned' | 'NodeUncordoned' | 'NodeDrainStarted' | 'NodeFailed' | 'NodeDecommissioned'>,
): void {
  const row = s.node.get(event.data.nodeId);
  const before = row ? nodeFromRow(row) : null;
  const after = evolveNode(before, event);
  if (after === null) return;
  if (event.type === 'NodeRegistered') s.ledger.clear(`node:${event.data.nodeId}`);
  s.putNode.run(nodeToRow(after));
  shiftTotals(s, before && nodeContribution(before), nodeContribution(after));
}

const capacityOf = (a: { vcpus: number; memoryMiB: number; diskGiB: number }): CapacityAmounts => ({ vcpus: a.vcpus, memoryMiB: a.memoryMiB, diskGiB: a.diskGiB });

function applyCapacity(s: Statements, event: InventoryEventOf<'CapacityReserved' | 'CapacityCommitted' | 'CapacityReleased'>): void {
  const row = s.node.get(event.data.nodeId);
  if (!row) return;
  const owner = `node:${event.data.nodeId}`;
  const d: LedgerDelta =
    event.type === 'CapacityReserved'
      ? s.ledger.reserve(owner, event.data.reservationId, event.data.vmId, { vms: 0, ...capacityOf(event.data.resources) }, event.data.expiresAt)
      : event.type === 'CapacityCommitted'
        ? s.ledger.commit(owner, event.data.reservationId)
        : s.ledger.release(owner, event.data.reservationId, event.data.vmId, { vms: 0, ...capacityOf(event.data.resources) });
  const before = nodeFromRow(row);
  const after = touched({
    ...before,
    allocated: capacityOf(moved({ vms: 0, ...before.allocated }, d.used)),
    reserved: capacityOf(moved({ vms: 0, ...before.reserved }, d.reserved)),
    reservations: before.reservations + d.reservations,
  }, event);
  s.putNode.run(nodeToRow(after));
  shiftTotals(s, nodeContribution(before), nodeContribution(after));
}

function applyRegion(s: Statements, event: InventoryEventOf<'RegionAdded' | 'RegionUpdated' | 'RegionRetired'>): void {
  const row = s.region.get(event.data.regionId);
  const after = evolveRegion(row ? regionFromRow(row) : null, event);
  if (after !== null) s.putRegion.run(regionToRow(after));
}

function applyCluster(s: Statements, event: InventoryEventOf<'ClusterJoined' | 'ClusterLeft' | 'ClusterHealthReported'>): void {
  const row = s.cluster.get(event.data.clusterId);
  const after = evolveCluster(row ? clusterFromRow(row) : null, event);
  if (after !== null) s.putCluster.run(clusterToRow(after));
}

function applyEvent(s: Statements, event: InventoryEvent): void {
  switch (event.type) {
    case 'TenantCreated':
    case 'TenantQuotaChanged':
    case 'TenantSuspended':
    case 'TenantReactivated':
    case 'TenantDeleted':
      return applyTenant(s, event);
    case 'QuotaReserved':
    case 'QuotaCommitted':
    case 'QuotaReleased':
      return applyQuota(s, event);
    case 'VmCreated':
    case 'VmStarted':
    case 'VmStopped':
    case 'VmRestarted':
    case 'VmPaused':
    case 'VmResumed':
    case 'VmResized':
    case 'VmMigrationStarted':
    case 'VmMigrationCompleted':
    case 'VmMigrationFailed':
    case 'VmSnapshotTaken':
    case 'VmDeleted':
    case 'VmFailed':
      return applyVm(s, event);
    case 'NodeRegistered':
    case 'NodeCapacityChanged':
    case 'NodeCordoned':
    case 'NodeUncordoned':
    case 'NodeDrainStarted':
    case 'NodeFailed':
    case 'NodeDecommissioned':
      return applyNode(s, event);
    case 'CapacityReserved':
    case 'CapacityCommitted':
    case 'CapacityReleased':
      return applyCapacity(s, event);
    case 'RegionAdded':
    case 'RegionUpdated':
    case 'RegionRetired':
      return applyRegion(s, event);
    case 'ClusterJoined':
    case 'ClusterLeft':
    case 'ClusterHealthReported':
      return applyCluster(s, event);
    default: {
      const never: never = event;
      throw new TypeError(`inventory: no rule for ${(never as { type: string }).type}`);
    }
  }
}

/**
 * The inventory's processor: each event updates the row of the entity it is
 * about (and the ledger and region totals it moves), then records its stream's
 * revision. An event whose revision its stream has already reached is skipped,
 * so a batch delivered twice counts nothing twice (the runner delivers once;
 * this is the second line of defence).
 */
export function createInventoryApply() {
  const statements = new WeakMap<Database.Database, Statements>();
  return (batch: readonly RecordedEvent[], db: Database.Database): void => {
    let s = statements.get(db);
    if (!s) {
      s = prepare(db);
      statements.set(db, s);
    }
    for (const event of batch) {
      const typed = asInventoryEvent(event);
      if (typed === null) continue;
      const applied = s.appliedRevision.get(event.streamId);
      if (applied && applied.revision >= event.revision) continue;
      applyEvent(s, typed);
      s.putStreamRevision.run(event.streamId, event.revision, event.position);
    }
  };
}
