import type { ClusterInfo, FleetDirectory, PlacementNode, RegionInfo } from '../../commands/placement/directory.ts';
import { INVENTORY, type InventoryQueries, type PlacementNodeRecord } from '../../projections/inventory/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import type { ProjectionHost } from '../../streams/processing/host.ts';

export interface InventoryDirectoryOptions {
  host: Pick<ProjectionHost, 'queries' | 'waitFor' | 'checkpoint'>;
  store: Pick<EventStore, 'headPosition'>;
  /** Longest `refresh()` waits for the inventory to apply the log's head before placement goes on with what it has. */
  waitMs: number;
}

const NODES_MAX_AGE_MS = 250;
const maxPosition = (records: readonly { position: number }[], from: number) => records.reduce((max, r) => Math.max(max, r.position), from);

const toPlacementNode = (n: PlacementNodeRecord): PlacementNode => ({
  nodeId: n.nodeId,
  regionId: n.regionId,
  clusterId: n.clusterId,
  status: n.status,
  capacity: n.capacity,
  overcommitRatio: n.overcommitRatio,
  used: n.allocated,
  reservations: Object.fromEntries(n.pending.map((p) => [p.reservationId, { vmId: p.vmId, resources: p.resources, expiresAt: p.expiresAt }])),
});

/**
 * Placement's fleet directory over the inventory projection: the saga's
 * candidate nodes, regions and cluster health come from the inventory's
 * tables instead of a fold of the log kept in memory. `refresh()` waits,
 * bounded by `waitMs`, for the inventory to apply what the log holds when it
 * is called (so a node registered just before is a candidate); past the bound
 * placement ranks what the inventory has. A stale view is safe: the
 * reservation is decided on the node stream, with its expected revision, and
 * a full node is skipped.
 */
export function createInventoryDirectory({ host, store, waitMs }: InventoryDirectoryOptions): FleetDirectory {
  if (!Number.isInteger(waitMs) || waitMs < 0) throw new TypeError('createInventoryDirectory: waitMs must be an integer >= 0');
  // The active generation's queries, looked up on each call: a replay may switch generations.
  const queries = () => host.queries<InventoryQueries>(INVENTORY);
  // The position of the last topology change made here (a node registered, cordoned, failed; a
  // region or cluster changed): placement waits for the inventory to hold it, not for the whole
  // log. Waiting for the head on every creation chained each one behind the inventory's lag
  // under load (a profile of 64 concurrent creations: p50 1-3 s, most of it waiting).
  let topology = 0;
  // The node list, kept up to date by reading only the nodes changed since the last read (by the
  // position of the event that last changed each): under creations the checkpoint moves all the
  // time, and reading all 1,000 nodes again each time was the API's largest cost in a profile.
  let list: { queries: InventoryQueries; checkpoint: number; at: number; since: number; byId: Map<string, PlacementNode>; nodes: PlacementNode[] | null } | null = null;
  return {
    async refresh({ full = false } = {}) {
      const target = full ? await store.headPosition() : topology;
      if (target > 0) await host.waitFor(INVENTORY, target, waitMs);
    },
    changed(position) {
      topology = Math.max(topology, position);
    },
    node(nodeId) {
      const node = queries().placementNode(nodeId);
      return node === null ? undefined : toPlacementNode(node);
    },
    nodes() {
      const current = queries();
      const checkpoint = host.checkpoint(INVENTORY);
      const now = performance.now();
      if (list === null || list.queries !== current) {
        // First read, or another generation serves (a replay): every node.
        const records = current.placementNodes();
        list = { queries: current, checkpoint, at: now, since: maxPosition(records, 0), byId: new Map(records.map((n) => [n.nodeId, toPlacementNode(n)])), nodes: null };
      } else if (list.checkpoint !== checkpoint || now - list.at > NODES_MAX_AGE_MS) {
        // (Looked at again every NODES_MAX_AGE_MS even when the checkpoint seems not to move: a projection another process writes.)
        // Rows are written in log order, so every change not seen yet has a position above the highest seen.
        const changed = current.placementNodesChangedSince(list.since);
        for (const record of changed) list.byId.set(record.nodeId, toPlacementNode(record));
        list.checkpoint = checkpoint;
        list.at = now;
        if (changed.length > 0) {
          list.since = maxPosition(changed, list.since);
          list.nodes = null;
        }
      }
      list.nodes ??= [...list.byId.values()];
      return list.nodes;
    },
    region(regionId): RegionInfo | undefined {
      const region = queries().getRegion(regionId);
      return region === null ? undefined : { regionId, retired: region.status === 'retired' };
    },
    cluster(clusterId): ClusterInfo | undefined {
      const cluster = queries().getCluster(clusterId);
      if (cluster === null) return undefined;
      // Health is unknown (null) until a cluster reports: placement treats it as healthy, as the in-memory directory does.
      return { clusterId, regionId: cluster.status === 'joined' ? cluster.regionId : null, healthy: cluster.healthy !== false };
    },
  };
}
