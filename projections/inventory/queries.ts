import type Database from 'better-sqlite3';
import { decodeCursor, encodeCursor, pageSize } from './cursor.ts';
import {
  clusterFromRow,
  nodeFromRow,
  REGION_SELECT,
  regionFromRow,
  tenantFromRow,
  vmFromRow,
  type ClusterRow,
  type NodeRow,
  type RegionRow,
  type TenantRow,
  type VmRow,
} from './rows.ts';
import type {
  ClusterRecord,
  NodeDetail,
  NodeStatus,
  Page,
  PlacementNodeRecord,
  RegionRecord,
  RegionStatus,
  TenantRecord,
  TenantStatus,
  VmLifecycle,
  VmRecord,
} from './types.ts';

interface Paging {
  /** A `nextCursor` from the previous page. */
  cursor?: string;
  /** Rows per page: default 50, at most 500. */
  limit?: number;
}

export interface VmFilter extends Paging {
  tenantId?: string;
  /** Without it, deleted VMs are left out. */
  state?: VmLifecycle;
  regionId?: string;
  nodeId?: string;
}
export interface TenantFilter extends Paging {
  status?: TenantStatus;
}
export interface NodeFilter extends Paging {
  regionId?: string;
  clusterId?: string;
  status?: NodeStatus;
}
export interface RegionFilter extends Paging {
  status?: RegionStatus;
}

type Param = string | number;

/**
 * A keyset-paginated list over one table, sorted by its primary key: the rows
 * after the cursor's key that match every condition, `limit` of them. A page
 * that is full has a `nextCursor` (the next page may be empty); a shorter page
 * is the last. Statements are prepared once per combination of conditions.
 */
function lister<Row, Item>(db: Database.Database, select: string, key: string, map: (row: Row) => Item, keyOf: (item: Item) => string) {
  const prepared = new Map<string, Database.Statement<Param[], Row>>();
  return (conditions: Array<[sql: string, value: Param] | null>, paging: Paging): Page<Item> => {
    const where: string[] = [];
    const params: Param[] = [];
    for (const condition of conditions) {
      if (condition === null) continue;
      where.push(condition[0]);
      params.push(condition[1]);
    }
    if (paging.cursor !== undefined) {
      where.push(`${key} > ?`);
      params.push(decodeCursor(paging.cursor));
    }
    const limit = pageSize(paging.limit);
    const sql = `${select}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key} LIMIT ?`;
    let statement = prepared.get(sql);
    if (!statement) {
      statement = db.prepare<Param[], Row>(sql);
      prepared.set(sql, statement);
    }
    const items = statement.all(...params, limit).map(map);
    const last = items[items.length - 1];
    return { items, nextCursor: items.length === limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
  };
}

/** The inventory's read side: VMs, tenants (usage against quota), nodes, regions (with totals), clusters. */
export function createInventoryQueries(db: Database.Database) {
  const vm = db.prepare<[string], VmRow>('SELECT * FROM inv_vms WHERE vm_id = ?');
  const tenant = db.prepare<[string], TenantRow>('SELECT * FROM inv_tenants WHERE tenant_id = ?');
  const node = db.prepare<[string], NodeRow>('SELECT * FROM inv_nodes WHERE node_id = ?');
  const allNodes = db.prepare<[], NodeRow>('SELECT * FROM inv_nodes ORDER BY node_id');
  const nodesChangedSince = db.prepare<[number], NodeRow>('SELECT * FROM inv_nodes WHERE position > ? ORDER BY node_id');
  const vmsOnNode = db.prepare<[string], { vm_id: string }>('SELECT vm_id FROM inv_ledger_held WHERE owner = ? ORDER BY vm_id');
  const nodePending = db.prepare<[], { owner: string; reservation_id: string; vm_id: string; vcpus: number; memory_mib: number; disk_gib: number; expires_at: string }>(
    "SELECT owner, reservation_id, vm_id, vcpus, memory_mib, disk_gib, expires_at FROM inv_ledger_pending WHERE owner >= 'node:' AND owner < 'node;' ORDER BY owner, reservation_id",
  );
  const pendingOf = db.prepare<[string], { reservation_id: string; vm_id: string; vcpus: number; memory_mib: number; disk_gib: number; expires_at: string }>(
    'SELECT reservation_id, vm_id, vcpus, memory_mib, disk_gib, expires_at FROM inv_ledger_pending WHERE owner = ? ORDER BY reservation_id',
  );
  const region = db.prepare<[string], RegionRow>(`${REGION_SELECT} WHERE r.region_id = ?`);
  const cluster = db.prepare<[string], ClusterRow>('SELECT * FROM inv_clusters WHERE cluster_id = ?');
  const streamRevision = db.prepare<[string], { revision: number; position: number }>('SELECT revision, position FROM stream_revisions WHERE stream_id = ?');

  const withVms = (record: ReturnType<typeof nodeFromRow>): NodeDetail => ({ ...record, vmIds: vmsOnNode.all(`node:${record.nodeId}`).map((r) => r.vm_id) });

  const vmPage = lister<VmRow, VmRecord>(db, 'SELECT * FROM inv_vms', 'vm_id', vmFromRow, (v) => v.vmId);
  const tenantPage = lister<TenantRow, TenantRecord>(db, 'SELECT * FROM inv_tenants', 'tenant_id', tenantFromRow, (t) => t.tenantId);
  const nodePage = lister<NodeRow, NodeDetail>(db, 'SELECT * FROM inv_nodes', 'node_id', (row) => withVms(nodeFromRow(row)), (n) => n.nodeId);
  const regionPage = lister<RegionRow, RegionRecord>(db, REGION_SELECT, 'r.region_id', regionFromRow, (r) => r.regionId);

  return {
    getVm(vmId: string): VmRecord | null {
      const row = vm.get(vmId);
      return row ? vmFromRow(row) : null;
    },
    /** VMs by id; deleted ones only when `state: 'deleted'` asks for them. */
    listVms(filter: VmFilter = {}): Page<VmRecord> {
      return vmPage(
        [
          filter.tenantId === undefined ? null : ['tenant_id = ?', filter.tenantId],
          filter.nodeId === undefined ? null : ['node_id = ?', filter.nodeId],
          filter.regionId === undefined ? null : ['region_id = ?', filter.regionId],
          filter.state === undefined ? ["state <> ?", 'deleted'] : ['state = ?', filter.state],
        ],
        filter,
      );
    },
    getTenant(tenantId: string): TenantRecord | null {
      const row = tenant.get(tenantId);
      return row ? tenantFromRow(row) : null;
    },
    listTenants(filter: TenantFilter = {}): Page<TenantRecord> {
      return tenantPage([filter.status === undefined ? null : ['status = ?', filter.status]], filter);
    },
    getNode(nodeId: string): NodeDetail | null {
      const row = node.get(nodeId);
      return row ? withVms(nodeFromRow(row)) : null;
    },
    listNodes(filter: NodeFilter = {}): Page<NodeDetail> {
      return nodePage(
        [
          filter.regionId === undefined ? null : ['region_id = ?', filter.regionId],
          filter.clusterId === undefined ? null : ['cluster_id = ?', filter.clusterId],
          filter.status === undefined ? null : ['status = ?', filter.status],
        ],
        filter,
      );
    },
    /** One node with its pending capacity reservations. */
    placementNode(nodeId: string): PlacementNodeRecord | null {
      const row = node.get(nodeId);
      if (!row) return null;
      const pending = pendingOf.all(`node:${nodeId}`).map((r) => ({
        reservationId: r.reservation_id,
        vmId: r.vm_id,
        resources: { vcpus: r.vcpus, memoryMiB: r.memory_mib, diskGiB: r.disk_gib },
        expiresAt: r.expires_at,
      }));
      return { ...nodeFromRow(row), pending };
    },
    /** Every node with its pending capacity reservations: what placement ranks. */
    placementNodes(): PlacementNodeRecord[] {
      const pending = new Map<string, PlacementNodeRecord['pending']>();
      for (const r of nodePending.all()) {
        const nodeId = r.owner.slice('node:'.length);
        const list = pending.get(nodeId) ?? [];
        list.push({ reservationId: r.reservation_id, vmId: r.vm_id, resources: { vcpus: r.vcpus, memoryMiB: r.memory_mib, diskGiB: r.disk_gib }, expiresAt: r.expires_at });
        pending.set(nodeId, list);
      }
      return allNodes.all().map((row) => {
        const record = nodeFromRow(row);
        return { ...record, pending: pending.get(record.nodeId) ?? [] };
      });
    },
    /**
     * The nodes an event after `position` changed (registered, capacity, status, a reservation
     * made, committed or released), with their pending reservations: what placement reads to
     * bring its node list up to date without reading every node again.
     */
    placementNodesChangedSince(position: number): PlacementNodeRecord[] {
      return nodesChangedSince.all(position).map((row) => {
        const record = nodeFromRow(row);
        const pending = pendingOf.all(`node:${record.nodeId}`).map((r) => ({
          reservationId: r.reservation_id,
          vmId: r.vm_id,
          resources: { vcpus: r.vcpus, memoryMiB: r.memory_mib, diskGiB: r.disk_gib },
          expiresAt: r.expires_at,
        }));
        return { ...record, pending };
      });
    },
    getRegion(regionId: string): RegionRecord | null {
      const row = region.get(regionId);
      return row ? regionFromRow(row) : null;
    },
    listRegions(filter: RegionFilter = {}): Page<RegionRecord> {
      return regionPage([filter.status === undefined ? null : ['r.status = ?', filter.status]], filter);
    },
    getCluster(clusterId: string): ClusterRecord | null {
      const row = cluster.get(clusterId);
      return row ? clusterFromRow(row) : null;
    },
    /** The revision (and position) of the last event of `streamId` the inventory has applied; null before any. */
    streamRevision(streamId: string): { revision: number; position: number } | null {
      return streamRevision.get(streamId) ?? null;
    },
  };
}

export type InventoryQueries = ReturnType<typeof createInventoryQueries>;
