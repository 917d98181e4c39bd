import type { HeldEntry, LedgerRows, PendingEntry } from './ledger.ts';
import type { RegionTotalsRow } from './rows.ts';
import { TOTALS, type BatchReads, type InventoryState, type Tables } from './state.ts';
import type { NodeRecord, TenantRecord, VmRecord } from './types.ts';

interface Entry<V> {
  value: V | null;
  /** Changed since it was read. */
  dirty: boolean;
  /** What the table holds for it (null: nothing) as read, before this batch changed it; undefined: not read. */
  stored: V | null | undefined;
}

/** Rows of one table (or one owner's ledger) read at most once, and their changes. */
class Rows<V> {
  readonly entries = new Map<string, Entry<V>>();
  constructor(
    private readonly load: (owner: string, key: string) => V | null,
    private readonly owner = '',
  ) {}

  /** What the table holds for `key` (null: nothing), as read before any change of this batch. */
  known(key: string, value: V | null): void {
    if (!this.entries.has(key)) this.entries.set(key, { value, dirty: false, stored: value });
  }

  get(key: string): V | null {
    const entry = this.entries.get(key);
    if (entry) return entry.value;
    const value = this.load(this.owner, key);
    this.entries.set(key, { value, dirty: false, stored: value });
    return value;
  }

  set(key: string, value: V | null): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.value = value;
      entry.dirty = true;
    } else {
      this.entries.set(key, { value, dirty: true, stored: undefined });
    }
  }

  flush(write: (key: string, value: V, stored: V | null | undefined) => void, remove: (key: string) => void): void {
    for (const [key, entry] of this.entries) {
      if (!entry.dirty) continue;
      if (entry.value !== null) write(key, entry.value, entry.stored);
      // Removed: written unless the table is known not to have it (or it was never read: then whether it has it is unknown).
      else if (entry.stored !== null) remove(key);
    }
  }
}

/** One Rows per owner, so that clearing an owner's ledger forgets its entries at once. */
class OwnedRows<V> {
  readonly owners = new Map<string, Rows<V>>();
  constructor(private readonly load: (owner: string, key: string) => V | null) {}

  of(owner: string): Rows<V> {
    let rows = this.owners.get(owner);
    if (!rows) {
      rows = new Rows(this.load, owner);
      this.owners.set(owner, rows);
    }
    return rows;
  }

  forget(owner: string): void {
    this.owners.delete(owner);
  }

  flush(write: (owner: string, key: string, value: V) => void, remove: (owner: string, key: string) => void): void {
    for (const [owner, rows] of this.owners) {
      rows.flush(
        (key, value) => write(owner, key, value),
        (key) => remove(owner, key),
      );
    }
  }
}

const NO_TOTALS = (): RegionTotalsRow => ({
  nodes: 0,
  vms: 0,
  vcpus_capacity: 0,
  vcpus_allocatable: 0,
  vcpus_allocated: 0,
  memory_mib_capacity: 0,
  memory_mib_allocatable: 0,
  memory_mib_allocated: 0,
});

/**
 * A write-behind cache over `tables` for one batch: each VM, tenant, node,
 * ledger entry and stream revision is read at most once, changes stay in
 * memory, and `flush` writes each changed row once (and each region's totals
 * once, as the sum of the batch's changes). Apply and flush run inside the
 * transaction the runner opens for the batch, so the batch stays atomic; a
 * failure drops the cache with the transaction. Regions and clusters (rare)
 * and clearing an owner's ledger go straight to the tables.
 */
export function writeBehind(tables: Tables): InventoryState & { /** Reads these rows in a few statements: call it first, before any other. */ prefetch(reads: BatchReads): void } {
  const revisions = new Map<string, { revision: number; position: number; dirty: boolean }>();
  const vms = new Rows<VmRecord>((_, id) => tables.vm(id));
  const tenants = new Rows<TenantRecord>((_, id) => tables.tenant(id));
  const nodes = new Rows<NodeRecord>((_, id) => tables.node(id));
  const pending = new OwnedRows<PendingEntry>((owner, id) => tables.ledger.pending(owner, id));
  const held = new OwnedRows<HeldEntry>((owner, id) => tables.ledger.held(owner, id));
  const totals = new Map<string, RegionTotalsRow>();

  const ledger: LedgerRows = {
    pending: (owner, reservationId) => pending.of(owner).get(reservationId),
    putPending: (owner, reservationId, entry) => pending.of(owner).set(reservationId, entry),
    dropPending: (owner, reservationId) => pending.of(owner).set(reservationId, null),
    held: (owner, vmId) => held.of(owner).get(vmId),
    putHeld: (owner, vmId, entry) => held.of(owner).set(vmId, entry),
    dropHeld: (owner, vmId) => held.of(owner).set(vmId, null),
    clear(owner) {
      // What the batch changed of this owner is dropped with the rows already stored; later reads find nothing.
      pending.forget(owner);
      held.forget(owner);
      tables.ledger.clear(owner);
    },
  };

  return {
    prefetch(reads) {
      const found = tables.readMany(reads);
      // What was found first; then every key asked for that was not is known to be absent.
      for (const [streamId, revision] of found.revisions) revisions.set(streamId, { revision, position: 0, dirty: false });
      for (const streamId of reads.streams) if (!revisions.has(streamId)) revisions.set(streamId, { revision: -1, position: 0, dirty: false });
      for (const vm of found.vms) vms.known(vm.vmId, vm);
      for (const id of reads.vms) vms.known(id, null);
      for (const tenant of found.tenants) tenants.known(tenant.tenantId, tenant);
      for (const id of reads.tenants) tenants.known(id, null);
      for (const node of found.nodes) nodes.known(node.nodeId, node);
      for (const id of reads.nodes) nodes.known(id, null);
      for (const [owner, id, entry] of found.pending) pending.of(owner).known(id, entry);
      for (const [owner, ids] of reads.pending) {
        const rows = pending.of(owner);
        for (const id of ids) rows.known(id, null);
      }
      for (const [owner, id, entry] of found.held) held.of(owner).known(id, entry);
      for (const [owner, ids] of reads.held) {
        const rows = held.of(owner);
        for (const id of ids) rows.known(id, null);
      }
    },
    appliedRevision(streamId) {
      let entry = revisions.get(streamId);
      if (!entry) {
        entry = { revision: tables.appliedRevision(streamId), position: 0, dirty: false };
        revisions.set(streamId, entry);
      }
      return entry.revision;
    },
    recordRevision(streamId, revision, position) {
      revisions.set(streamId, { revision, position, dirty: true });
    },
    vm: (vmId) => vms.get(vmId),
    putVm: (vm) => vms.set(vm.vmId, vm),
    tenant: (tenantId) => tenants.get(tenantId),
    putTenant: (tenant) => tenants.set(tenant.tenantId, tenant),
    node: (nodeId) => nodes.get(nodeId),
    putNode: (node) => nodes.set(node.nodeId, node),
    region: (regionId) => tables.region(regionId),
    putRegion: (region) => tables.putRegion(region),
    cluster: (clusterId) => tables.cluster(clusterId),
    putCluster: (cluster) => tables.putCluster(cluster),
    addTotals(regionId, delta) {
      let sum = totals.get(regionId);
      if (!sum) {
        sum = NO_TOTALS();
        totals.set(regionId, sum);
      }
      for (const column of TOTALS) sum[column] += delta[column];
    },
    ledger,
    flush() {
      const unsupported = () => {
        throw new TypeError('inventory: entities are never removed');
      };
      vms.flush((_, vm, stored) => tables.putVm(vm, stored), unsupported);
      tenants.flush((_, tenant, stored) => tables.putTenant(tenant, stored), unsupported);
      nodes.flush((_, node, stored) => tables.putNode(node, stored), unsupported);
      pending.flush(
        (owner, id, entry) => tables.ledger.putPending(owner, id, entry),
        (owner, id) => tables.ledger.dropPending(owner, id),
      );
      held.flush(
        (owner, id, entry) => tables.ledger.putHeld(owner, id, entry),
        (owner, id) => tables.ledger.dropHeld(owner, id),
      );
      // Every region a change reached gets its row, even when the batch's changes cancel out (as applying them one by one would).
      for (const [regionId, sum] of totals) tables.addTotals(regionId, sum);
      for (const [streamId, entry] of revisions) {
        if (entry.dirty) tables.recordRevision(streamId, entry.revision, entry.position);
      }
      revisions.clear();
      vms.entries.clear();
      tenants.entries.clear();
      nodes.entries.clear();
      pending.owners.clear();
      held.owners.clear();
      totals.clear();
    },
  };
}
