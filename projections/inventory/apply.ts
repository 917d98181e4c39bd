import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { evolveCluster, evolveNode, evolveRegion, evolveTenant, evolveVm, stamped } from './evolve.ts';
import { createLedger, moved, type Ledger, type LedgerDelta } from './ledger.ts';
import type { RegionTotalsRow } from './rows.ts';
import { readsOf } from './prefetch.ts';
import { sqlState, TOTALS, type InventoryState, type Tables } from './state.ts';
import { writeBehind } from './write-behind.ts';
import { asInventoryEvent, type CapacityAmounts, type InventoryEvent, type InventoryEventOf, type NodeRecord, type QuotaAmounts, type VmRecord } from './types.ts';

// ── region totals ───────────────────────────────────────────────────────────

/** What an entity adds to its region's totals. */
interface Contribution {
  regionId: string;
  totals: RegionTotalsRow;
}

const totalsOf = (nodes: number, vms: number, vcpusCapacity: number, vcpusAllocatable: number, vcpusAllocated: number, memoryCapacity: number, memoryAllocatable: number, memoryAllocated: number): RegionTotalsRow => ({
  nodes,
  vms,
  vcpus_capacity: vcpusCapacity,
  vcpus_allocatable: vcpusAllocatable,
  vcpus_allocated: vcpusAllocated,
  memory_mib_capacity: memoryCapacity,
  memory_mib_allocatable: memoryAllocatable,
  memory_mib_allocated: memoryAllocated,
});

/** What a node adds to its region's totals: nothing once decommissioned; no capacity while failed. */
function nodeContribution(node: NodeRecord): Contribution {
  if (node.status === 'decommissioned') return { regionId: node.regionId, totals: totalsOf(0, 0, 0, 0, 0, 0, 0, 0) };
  const inService = node.status !== 'failed';
  return {
    regionId: node.regionId,
    totals: totalsOf(
      1,
      0,
      inService ? node.capacity.vcpus : 0,
      inService ? node.allocatable.vcpus : 0,
      node.allocated.vcpus,
      inService ? node.capacity.memoryMiB : 0,
      inService ? node.allocatable.memoryMiB : 0,
      node.allocated.memoryMiB,
    ),
  };
}

const vmContribution = (vm: VmRecord): Contribution => ({ regionId: vm.regionId, totals: totalsOf(0, vm.state === 'deleted' ? 0 : 1, 0, 0, 0, 0, 0, 0) });

/** `plus − minus` (either may be absent), or null when it changes nothing. */
function change(plus: RegionTotalsRow | null, minus: RegionTotalsRow | null): RegionTotalsRow | null {
  let delta: RegionTotalsRow | null = null;
  for (const column of TOTALS) {
    const d = (plus ? plus[column] : 0) - (minus ? minus[column] : 0);
    if (d !== 0) (delta ??= totalsOf(0, 0, 0, 0, 0, 0, 0, 0))[column] = d;
  }
  return delta;
}

/** Moves the totals from what `before` contributed to what `after` does (either may be absent); a change that adds nothing writes nothing. */
function shiftTotals(state: InventoryState, before: Contribution | null, after: Contribution | null): void {
  if (before && after && before.regionId === after.regionId) {
    const delta = change(after.totals, before.totals);
    if (delta) state.addTotals(after.regionId, delta);
    return;
  }
  const left = before && change(null, before.totals);
  if (before && left) state.addTotals(before.regionId, left);
  const arrived = after && change(after.totals, null);
  if (after && arrived) state.addTotals(after.regionId, arrived);
}

// ── one rule per aggregate ──────────────────────────────────────────────────

interface Context {
  state: InventoryState;
  ledger: Ledger;
}

type VmEventType = Extract<InventoryEvent['type'], `Vm${string}`>;

function applyVm({ state }: Context, event: InventoryEventOf<VmEventType>): void {
  const before = state.vm(event.data.vmId);
  const after = evolveVm(before, event);
  if (after === null) return;
  state.putVm(after);
  shiftTotals(state, before && vmContribution(before), vmContribution(after));
}

function applyTenant({ state, ledger }: Context, event: InventoryEventOf<'TenantCreated' | 'TenantQuotaChanged' | 'TenantSuspended' | 'TenantReactivated' | 'TenantDeleted'>): void {
  const after = evolveTenant(state.tenant(event.data.tenantId), event);
  if (after === null) return;
  if (event.type === 'TenantCreated') ledger.clear(`tenant:${event.data.tenantId}`);
  state.putTenant(after);
}

function applyQuota({ state, ledger }: Context, event: InventoryEventOf<'QuotaReserved' | 'QuotaCommitted' | 'QuotaReleased'>): void {
  const before = state.tenant(event.data.tenantId);
  if (!before) return;
  const owner = `tenant:${event.data.tenantId}`;
  const d: LedgerDelta =
    event.type === 'QuotaReserved'
      ? ledger.reserve(owner, event.data.reservationId, event.data.vmId, event.data.resources, event.data.expiresAt)
      : event.type === 'QuotaCommitted'
        ? ledger.commit(owner, event.data.reservationId)
        : ledger.release(owner, event.data.reservationId, event.data.vmId, event.data.resources);
  state.putTenant(stamped({
    ...before,
    usage: moved(before.usage, d.used),
    reserved: moved(before.reserved, d.reserved),
    reservations: before.reservations + d.reservations,
  }, event));
}

function applyNode(
  { state, ledger }: Context,
  event: InventoryEventOf<'NodeRegistered' | 'NodeCapacityChanged' | 'NodeCordoned' | 'NodeUncordoned' | 'NodeDrainStarted' | 'NodeFailed' | 'NodeDecommissioned'>,
): void {
  const before = state.node(event.data.nodeId);
  const after = evolveNode(before, event);
  if (after === null) return;
  if (event.type === 'NodeRegistered') ledger.clear(`node:${event.data.nodeId}`);
  state.putNode(after);
  shiftTotals(state, before && nodeContribution(before), nodeContribution(after));
}

/** Capacity as ledger amounts (nodes have no `vms` dimension). */
const quotaOf = (a: CapacityAmounts): QuotaAmounts => ({ vms: 0, vcpus: a.vcpus, memoryMiB: a.memoryMiB, diskGiB: a.diskGiB });
/** `a` moved by the capacity dimensions of `delta`. */
const shifted = (a: CapacityAmounts, delta: QuotaAmounts): CapacityAmounts => ({
  vcpus: a.vcpus + delta.vcpus,
  memoryMiB: a.memoryMiB + delta.memoryMiB,
  diskGiB: a.diskGiB + delta.diskGiB,
});

function applyCapacity({ state, ledger }: Context, event: InventoryEventOf<'CapacityReserved' | 'CapacityCommitted' | 'CapacityReleased'>): void {
  const before = state.node(event.data.nodeId);
  if (!before) return;
  const owner = `node:${event.data.nodeId}`;
  const d: LedgerDelta =
    event.type === 'CapacityReserved'
      ? ledger.reserve(owner, event.data.reservationId, event.data.vmId, quotaOf(event.data.resources), event.data.expiresAt)
      : event.type === 'CapacityCommitted'
        ? ledger.commit(owner, event.data.reservationId)
        : ledger.release(owner, event.data.reservationId, event.data.vmId, quotaOf(event.data.resources));
  const after = stamped({
    ...before,
    allocated: shifted(before.allocated, d.used),
    reserved: shifted(before.reserved, d.reserved),
    reservations: before.reservations + d.reservations,
  }, event);
  state.putNode(after);
  shiftTotals(state, nodeContribution(before), nodeContribution(after));
}

function applyRegion({ state }: Context, event: InventoryEventOf<'RegionAdded' | 'RegionUpdated' | 'RegionRetired'>): void {
  const after = evolveRegion(state.region(event.data.regionId), event);
  if (after !== null) state.putRegion(after);
}

function applyCluster({ state }: Context, event: InventoryEventOf<'ClusterJoined' | 'ClusterLeft' | 'ClusterHealthReported'>): void {
  const after = evolveCluster(state.cluster(event.data.clusterId), event);
  if (after !== null) state.putCluster(after);
}

function applyEvent(c: Context, event: InventoryEvent): void {
  switch (event.type) {
    case 'TenantCreated':
    case 'TenantQuotaChanged':
    case 'TenantSuspended':
    case 'TenantReactivated':
    case 'TenantDeleted':
      return applyTenant(c, event);
    case 'QuotaReserved':
    case 'QuotaCommitted':
    case 'QuotaReleased':
      return applyQuota(c, event);
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
      return applyVm(c, event);
    case 'NodeRegistered':
    case 'NodeCapacityChanged':
    case 'NodeCordoned':
    case 'NodeUncordoned':
    case 'NodeDrainStarted':
    case 'NodeFailed':
    case 'NodeDecommissioned':
      return applyNode(c, event);
    case 'CapacityReserved':
    case 'CapacityCommitted':
    case 'CapacityReleased':
      return applyCapacity(c, event);
    case 'RegionAdded':
    case 'RegionUpdated':
    case 'RegionRetired':
      return applyRegion(c, event);
    case 'ClusterJoined':
    case 'ClusterLeft':
    case 'ClusterHealthReported':
      return applyCluster(c, event);
    default: {
      const never: never = event;
      throw new TypeError(`inventory: no rule for ${(never as { type: string }).type}`);
    }
  }
}

export interface InventoryApplyOptions {
  /**
   * true (default): a batch reads the rows it needs in a few statements
   * (prefetch.ts), each at most once, and writes each changed row once, at
   * its end (write-behind.ts). false: every event reads
   * and writes the tables itself — the straightforward path, kept as the
   * reference the write-behind path is tested against.
   */
  writeBehind?: boolean;
}

/**
 * The inventory's processor: each event updates the row of the entity it is
 * about (and the ledger and region totals it moves), then records its stream's
 * revision. An event whose revision its stream has already reached is skipped,
 * so a batch delivered twice counts nothing twice (the runner delivers once;
 * this is the second line of defence).
 */
export function createInventoryApply({ writeBehind: behind = true }: InventoryApplyOptions = {}) {
  const tablesOf = new WeakMap<Database.Database, Tables>();
  return (batch: readonly RecordedEvent[], db: Database.Database): void => {
    let tables = tablesOf.get(db);
    if (!tables) {
      tables = sqlState(db);
      tablesOf.set(db, tables);
    }
    if (behind) {
      const state = writeBehind(tables);
      state.prefetch(readsOf(batch));
      applyEvents(state, batch);
      state.flush();
    } else {
      applyEvents(tables, batch);
    }
  };
}

/** Applies `batch` in order through `state`, skipping events already applied; writes only what `state` writes before its flush. */
export function applyEvents(state: InventoryState, batch: readonly RecordedEvent[]): void {
  const context: Context = { state, ledger: createLedger(state.ledger) };
  for (const event of batch) {
    const typed = asInventoryEvent(event);
    if (typed === null) continue;
    if (state.appliedRevision(event.streamId) >= event.revision) continue;
    applyEvent(context, typed);
    state.recordRevision(event.streamId, event.revision, event.position);
  }
}
