import type Database from 'better-sqlite3';
import { sqlLedgerRows, type HeldEntry, type LedgerRows, type PendingEntry } from './ledger.ts';
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
import type { ClusterRecord, NodeRecord, RegionRecord, TenantRecord, VmRecord } from './types.ts';

/**
 * What the inventory's rules read and write while they apply a batch: the
 * entities' records, the reservation ledgers, the region totals and the
 * revision applied of each stream. `sqlState` reads and writes the tables at
 * every call; `writeBehind` (write-behind.ts) keeps a batch's changes in
 * memory and writes each changed row once, at `flush`.
 */
export interface InventoryState {
  /** Revision of the last event of `streamId` applied; -1 when none. */
  appliedRevision(streamId: string): number;
  recordRevision(streamId: string, revision: number, position: number): void;
  vm(vmId: string): VmRecord | null;
  /** Writes a record; `stored`, when known, is the one the table holds (it lets an update leave unchanged indexes alone). */
  putVm(vm: VmRecord, stored?: VmRecord | null): void;
  tenant(tenantId: string): TenantRecord | null;
  putTenant(tenant: TenantRecord, stored?: TenantRecord | null): void;
  node(nodeId: string): NodeRecord | null;
  putNode(node: NodeRecord, stored?: NodeRecord | null): void;
  region(regionId: string): RegionRecord | null;
  putRegion(region: RegionRecord, stored?: RegionRecord | null): void;
  cluster(clusterId: string): ClusterRecord | null;
  putCluster(cluster: ClusterRecord, stored?: ClusterRecord | null): void;
  /** Adds `delta` to a region's totals. */
  addTotals(regionId: string, delta: RegionTotalsRow): void;
  ledger: LedgerRows;
  /** Writes whatever is still held in memory. */
  flush(): void;
}

/** Rows a batch will read, to be read together before it starts (see prefetch.ts). */
export interface BatchReads {
  streams: Set<string>;
  vms: Set<string>;
  tenants: Set<string>;
  nodes: Set<string>;
  /** Owner → reservation ids. */
  pending: Map<string, Set<string>>;
  /** Owner → VM ids. */
  held: Map<string, Set<string>>;
}

/** The tables, which can also read many rows in one statement. */
export interface Tables extends InventoryState {
  readMany(keys: BatchReads): {
    revisions: Array<[streamId: string, revision: number]>;
    vms: VmRecord[];
    tenants: TenantRecord[];
    nodes: NodeRecord[];
    pending: Array<[owner: string, reservationId: string, entry: PendingEntry]>;
    held: Array<[owner: string, vmId: string, entry: HeldEntry]>;
  };
}

export const TOTALS = ['nodes', 'vms', 'vcpus_capacity', 'vcpus_allocatable', 'vcpus_allocated', 'memory_mib_capacity', 'memory_mib_allocatable', 'memory_mib_allocated'] as const;

const VERSION = ['created_revision', 'created_position', 'created_at', 'revision', 'position', 'updated_at'] as const;
const VM_COLUMNS = ['vm_id', 'tenant_id', 'name', 'state', 'node_id', 'region_id', 'cluster_id', 'vcpus', 'memory_mib', 'disk_gib', 'image', 'snapshots', 'migration', ...VERSION] as const;
const TENANT_COLUMNS = [
  'tenant_id', 'name', 'status', 'allowed_regions', 'quota_vms', 'quota_vcpus', 'quota_memory_mib', 'quota_disk_gib',
  'used_vms', 'used_vcpus', 'used_memory_mib', 'used_disk_gib', 'reserved_vms', 'reserved_vcpus', 'reserved_memory_mib', 'reserved_disk_gib',
  'reservations', ...VERSION,
] as const;
const NODE_COLUMNS = [
  'node_id', 'region_id', 'cluster_id', 'status', 'capacity_vcpus', 'capacity_memory_mib', 'capacity_disk_gib', 'overcommit_ratio',
  'allocatable_vcpus', 'allocatable_memory_mib', 'allocatable_disk_gib', 'allocated_vcpus', 'allocated_memory_mib', 'allocated_disk_gib',
  'reserved_vcpus', 'reserved_memory_mib', 'reserved_disk_gib', 'reservations', ...VERSION,
] as const;
const REGION_COLUMNS = ['region_id', 'name', 'lat', 'lon', 'compliance_zone', 'cost_per_vcpu_hour', 'shards', 'status', ...VERSION] as const;
const CLUSTER_COLUMNS = ['cluster_id', 'region_id', 'status', 'healthy', 'revision', 'position'] as const;

type Value = string | number | null;

/** The columns of `table` some index other than its primary key is on. */
function indexedColumns(db: Database.Database, table: string, key: string): Set<string> {
  const indexes = db.prepare<[string], string>("SELECT name FROM pragma_index_list(?) WHERE origin = 'c'").pluck().all(table);
  const columns = indexes.flatMap((index) => db.prepare<[string], string>('SELECT name FROM pragma_index_info(?)').pluck().all(index));
  return new Set(columns.filter((c) => c !== key));
}

/**
 * Writes a whole row. Unknown or absent before: `INSERT … ON CONFLICT (key)
 * DO UPDATE SET` every other column. Known to be stored (`stored`, the row as
 * it is in the table): `UPDATE … SET` every column but the indexed ones that
 * keep their value, so SQLite leaves those indexes alone — rewriting an
 * index entry costs more than the row itself (inv_vms has four).
 * Parameters are positional, in `columns` order, bound from one array:
 * faster than one named parameter per column.
 */
function writer<Row>(db: Database.Database, table: string, key: string, columns: readonly (keyof Row & string)[]) {
  const others = columns.filter((c) => c !== key);
  const upsert = db.prepare<[Value[]]>(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
    ON CONFLICT (${key}) DO UPDATE SET ${others.map((c) => `${c} = excluded.${c}`).join(', ')}`);
  const indexed = indexedColumns(db, table, key);
  const plain = others.filter((c) => !indexed.has(c));
  const watched = others.filter((c) => indexed.has(c));
  const updates = new Map<number, { statement: Database.Statement<[Value[]]>; columns: readonly (keyof Row & string)[] }>();
  const updateFor = (changed: number) => {
    let update = updates.get(changed);
    if (!update) {
      const set = [...plain, ...watched.filter((_, i) => (changed & (1 << i)) !== 0)];
      update = {
        statement: db.prepare<[Value[]]>(`UPDATE ${table} SET ${set.map((c) => `${c} = ?`).join(', ')} WHERE ${key} = ?`),
        columns: [...set, key as keyof Row & string],
      };
      updates.set(changed, update);
    }
    return update;
  };
  const valuesOf = (row: Row, of: readonly (keyof Row & string)[]): Value[] => {
    const values: Value[] = new Array(of.length);
    for (let i = 0; i < of.length; i++) values[i] = row[of[i] as keyof Row] as Value;
    return values;
  };
  return (row: Row, stored?: Row | null): void => {
    if (stored) {
      let changed = 0;
      for (let i = 0; i < watched.length; i++) {
        const column = watched[i] as keyof Row;
        if (row[column] !== stored[column]) changed |= 1 << i;
      }
      const update = updateFor(changed);
      if (update.statement.run(valuesOf(row, update.columns)).changes === 1) return;
    }
    upsert.run(valuesOf(row, columns));
  };
}

/**
 * `SELECT columns FROM table WHERE key = ?`, or for each key of a JSON array
 * (one statement for many rows: much cheaper than one per key), read as
 * arrays (`raw`) and turned into row objects here: better-sqlite3 builds a
 * named row far more slowly than this loop does.
 */
function select<Row>(db: Database.Database, table: string, key: string, columns: readonly (keyof Row & string)[]) {
  const statement = db.prepare<[string], Value[]>(`SELECT ${columns.join(', ')} FROM ${table} WHERE ${key} = ?`).raw();
  const many = db
    .prepare<[string], Value[]>(`SELECT ${columns.map((c) => `t.${c}`).join(', ')} FROM json_each(?) AS k CROSS JOIN ${table} AS t ON t.${key} = k.value`)
    .raw();
  const toRow = (values: Value[]): Row => {
    const row: Partial<Record<keyof Row, Value>> = {};
    for (let i = 0; i < columns.length; i++) row[columns[i] as keyof Row] = values[i] as Value;
    // The columns of Row, as selected.
    return row as Row;
  };
  return {
    one(id: string): Row | undefined {
      const values = statement.get(id);
      return values === undefined ? undefined : toRow(values);
    },
    /** The rows of these keys that exist, in one statement. */
    many(ids: ReadonlySet<string>): Row[] {
      return ids.size === 0 ? [] : many.all(JSON.stringify([...ids])).map(toRow);
    },
  };
}

/** The tables themselves: every read and every write is a statement (the straightforward per-event path). */
export function sqlState(db: Database.Database): Tables {
  const appliedRevision = db.prepare<[string], number>('SELECT revision FROM stream_revisions WHERE stream_id = ?').pluck();
  const appliedRevisions = db
    .prepare<[string], [string, number]>('SELECT s.stream_id, s.revision FROM json_each(?) AS k CROSS JOIN stream_revisions AS s ON s.stream_id = k.value')
    .raw();
  type Amounts = [vms: number, vcpus: number, memoryMiB: number, diskGiB: number];
  const pendingIn = db
    .prepare<[string], [string, string, string, ...Amounts, string]>(
      `SELECT p.owner, p.reservation_id, p.vm_id, p.vms, p.vcpus, p.memory_mib, p.disk_gib, p.expires_at
       FROM json_each(?) AS o CROSS JOIN json_each(o.value) AS k CROSS JOIN inv_ledger_pending AS p ON p.owner = o.key AND p.reservation_id = k.value`,
    )
    .raw();
  const heldIn = db
    .prepare<[string], [string, string, string, ...Amounts]>(
      `SELECT h.owner, h.vm_id, h.reservation_id, h.vms, h.vcpus, h.memory_mib, h.disk_gib
       FROM json_each(?) AS o CROSS JOIN json_each(o.value) AS k CROSS JOIN inv_ledger_held AS h ON h.owner = o.key AND h.vm_id = k.value`,
    )
    .raw();
  const putStreamRevision = db.prepare<[string, number, number]>(
    'INSERT INTO stream_revisions (stream_id, revision, position) VALUES (?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, position = excluded.position',
  );
  const vm = select<VmRow>(db, 'inv_vms', 'vm_id', VM_COLUMNS);
  const putVm = writer<VmRow>(db, 'inv_vms', 'vm_id', VM_COLUMNS);
  const tenant = select<TenantRow>(db, 'inv_tenants', 'tenant_id', TENANT_COLUMNS);
  const putTenant = writer<TenantRow>(db, 'inv_tenants', 'tenant_id', TENANT_COLUMNS);
  const node = select<NodeRow>(db, 'inv_nodes', 'node_id', NODE_COLUMNS);
  const putNode = writer<NodeRow>(db, 'inv_nodes', 'node_id', NODE_COLUMNS);
  const region = db.prepare<[string], RegionRow>(`${REGION_SELECT} WHERE r.region_id = ?`);
  const putRegion = writer<ReturnType<typeof regionToRow>>(db, 'inv_regions', 'region_id', REGION_COLUMNS);
  const cluster = select<ClusterRow>(db, 'inv_clusters', 'cluster_id', CLUSTER_COLUMNS);
  const putCluster = writer<ClusterRow>(db, 'inv_clusters', 'cluster_id', CLUSTER_COLUMNS);
  const addTotals = db.prepare<[Value[]]>(
    `INSERT INTO inv_region_totals (region_id, ${TOTALS.join(', ')}) VALUES (?, ${TOTALS.map(() => '?').join(', ')})
     ON CONFLICT (region_id) DO UPDATE SET ${TOTALS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
  );

  return {
    appliedRevision: (streamId) => appliedRevision.get(streamId) ?? -1,
    recordRevision: (streamId, revision, position) => void putStreamRevision.run(streamId, revision, position),
    vm(vmId) {
      const row = vm.one(vmId);
      return row ? vmFromRow(row) : null;
    },
    putVm: (record, stored) => putVm(vmToRow(record), stored && vmToRow(stored)),
    tenant(tenantId) {
      const row = tenant.one(tenantId);
      return row ? tenantFromRow(row) : null;
    },
    putTenant: (record, stored) => putTenant(tenantToRow(record), stored && tenantToRow(stored)),
    node(nodeId) {
      const row = node.one(nodeId);
      return row ? nodeFromRow(row) : null;
    },
    putNode: (record, stored) => putNode(nodeToRow(record), stored && nodeToRow(stored)),
    region(regionId) {
      const row = region.get(regionId);
      return row ? regionFromRow(row) : null;
    },
    putRegion: (record, stored) => putRegion(regionToRow(record), stored && regionToRow(stored)),
    cluster(clusterId) {
      const row = cluster.one(clusterId);
      return row ? clusterFromRow(row) : null;
    },
    putCluster: (record, stored) => putCluster(clusterToRow(record), stored && clusterToRow(stored)),
    addTotals(regionId, d) {
      addTotals.run([regionId, d.nodes, d.vms, d.vcpus_capacity, d.vcpus_allocatable, d.vcpus_allocated, d.memory_mib_capacity, d.memory_mib_allocatable, d.memory_mib_allocated]);
    },
    ledger: sqlLedgerRows(db),
    flush() {},
    readMany(keys) {
      /** `{ owner: [ids] }`, as the ledger statements take it. */
      const byOwner = (ids: Map<string, Set<string>>) => JSON.stringify(Object.fromEntries([...ids].map(([owner, of]) => [owner, [...of]])));
      return {
        revisions: keys.streams.size === 0 ? [] : appliedRevisions.all(JSON.stringify([...keys.streams])),
        vms: vm.many(keys.vms).map(vmFromRow),
        tenants: tenant.many(keys.tenants).map(tenantFromRow),
        nodes: node.many(keys.nodes).map(nodeFromRow),
        pending:
          keys.pending.size === 0
            ? []
            : pendingIn.all(byOwner(keys.pending)).map(([owner, id, vmId, vms, vcpus, memoryMiB, diskGiB, expiresAt]) => [
                owner,
                id,
                { vmId, amounts: { vms, vcpus, memoryMiB, diskGiB }, expiresAt },
              ]),
        held:
          keys.held.size === 0
            ? []
            : heldIn.all(byOwner(keys.held)).map(([owner, vmId, reservationId, vms, vcpus, memoryMiB, diskGiB]) => [
                owner,
                vmId,
                { reservationId, amounts: { vms, vcpus, memoryMiB, diskGiB } },
              ]),
      };
    },
  };
}
