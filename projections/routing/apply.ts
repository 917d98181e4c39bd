import type Database from 'better-sqlite3';
import type { EventDataMap } from '../../schemas/generated/events.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';

export const ROUTING_EVENTS = [
  'RegionAdded',
  'RegionUpdated',
  'RegionRetired',
  'ClusterJoined',
  'ClusterLeft',
  'ClusterHealthReported',
  'NodeRegistered',
  'NodeCapacityChanged',
  'NodeDecommissioned',
  'NodeFailed',
  'CapacityReserved',
  'CapacityCommitted',
  'CapacityReleased',
  'TenantCreated',
  'TenantDeleted',
] as const;

type RoutingEventType = (typeof ROUTING_EVENTS)[number];
type RoutingEvent = { [T in RoutingEventType]: RecordedEvent<T, EventDataMap[T]> }[RoutingEventType];

/**
 * vCPUs a node can hand out: capacity × overcommit ratio, rounded down (as the
 * node aggregate's `allocatable`; repeated here because projections depend on
 * the log, not on the command side).
 */
export const allocatableVcpus = (vcpus: number, overcommitRatio: number): number => Math.floor(vcpus * overcommitRatio + 1e-9);

function prepare(db: Database.Database) {
  return {
    upsertRegion: db.prepare(`
      INSERT INTO routing_regions (region_id, added, lat, lon, cost_per_vcpu_hour) VALUES (?, 1, ?, ?, ?)
      ON CONFLICT (region_id) DO UPDATE SET added = 1, lat = excluded.lat, lon = excluded.lon, cost_per_vcpu_hour = excluded.cost_per_vcpu_hour`),
    updateRegion: db.prepare(
      'UPDATE routing_regions SET lat = COALESCE(?, lat), lon = COALESCE(?, lon), cost_per_vcpu_hour = COALESCE(?, cost_per_vcpu_hour) WHERE region_id = ? AND added = 1',
    ),
    retireRegion: db.prepare('INSERT INTO routing_regions (region_id, retired) VALUES (?, 1) ON CONFLICT (region_id) DO UPDATE SET retired = 1'),
    recompute: db.prepare(`
      UPDATE routing_regions SET
        healthy_clusters = (SELECT COUNT(*) FROM routing_clusters WHERE region_id = @region AND joined = 1 AND healthy = 1),
        capacity_vcpus = (SELECT COALESCE(SUM(capacity_vcpus), 0) FROM routing_nodes WHERE region_id = @region AND live = 1),
        allocated_vcpus = (SELECT COALESCE(SUM(allocated_vcpus), 0) FROM routing_nodes WHERE region_id = @region AND live = 1)
      WHERE region_id = @region`),

    cluster: db.prepare<[string], { region_id: string }>('SELECT region_id FROM routing_clusters WHERE cluster_id = ?'),
    joinCluster: db.prepare(`
      INSERT INTO routing_clusters (cluster_id, region_id, joined, healthy) VALUES (?, ?, 1, 1)
      ON CONFLICT (cluster_id) DO UPDATE SET region_id = excluded.region_id, joined = 1, healthy = 1`),
    leaveCluster: db.prepare('UPDATE routing_clusters SET joined = 0 WHERE cluster_id = ?'),
    clusterHealth: db.prepare('UPDATE routing_clusters SET healthy = ? WHERE cluster_id = ?'),

    node: db.prepare<[string], { region_id: string }>('SELECT region_id FROM routing_nodes WHERE node_id = ?'),
    registerNode: db.prepare(`
      INSERT INTO routing_nodes (node_id, region_id, capacity_vcpus, allocated_vcpus, live) VALUES (?, ?, ?, 0, 1)
      ON CONFLICT (node_id) DO UPDATE SET region_id = excluded.region_id, capacity_vcpus = excluded.capacity_vcpus, allocated_vcpus = 0, live = 1`),
    forgetNodeLedger: db.prepare('DELETE FROM routing_holdings WHERE node_id = ?'),
    forgetNodeReservations: db.prepare('DELETE FROM routing_reservations WHERE node_id = ?'),
    nodeCapacity: db.prepare('UPDATE routing_nodes SET capacity_vcpus = ? WHERE node_id = ?'),
    nodeGone: db.prepare('UPDATE routing_nodes SET live = 0 WHERE node_id = ?'),
    nodeAllocated: db.prepare('UPDATE routing_nodes SET allocated_vcpus = allocated_vcpus + ? WHERE node_id = ?'),

    reservation: db.prepare<[string, string], { vm_id: string; vcpus: number }>(
      'SELECT vm_id, vcpus FROM routing_reservations WHERE reservation_id = ? AND node_id = ?',
    ),
    reserve: db.prepare('INSERT OR REPLACE INTO routing_reservations (reservation_id, node_id, vm_id, vcpus) VALUES (?, ?, ?, ?)'),
    dropReservation: db.prepare('DELETE FROM routing_reservations WHERE reservation_id = ?'),
    holding: db.prepare<[string, string], { vcpus: number }>('SELECT vcpus FROM routing_holdings WHERE node_id = ? AND vm_id = ?'),
    hold: db.prepare(`
      INSERT INTO routing_holdings (node_id, vm_id, vcpus) VALUES (?, ?, ?)
      ON CONFLICT (node_id, vm_id) DO UPDATE SET vcpus = vcpus + excluded.vcpus`),
    setHolding: db.prepare('UPDATE routing_holdings SET vcpus = ? WHERE node_id = ? AND vm_id = ?'),
    dropHolding: db.prepare('DELETE FROM routing_holdings WHERE node_id = ? AND vm_id = ?'),

    upsertTenant: db.prepare(`
      INSERT INTO routing_tenants (tenant_id, allowed_regions) VALUES (?, ?)
      ON CONFLICT (tenant_id) DO UPDATE SET allowed_regions = excluded.allowed_regions`),
    deleteTenant: db.prepare('DELETE FROM routing_tenants WHERE tenant_id = ?'),
  };
}
type Statements = ReturnType<typeof prepare>;

/**
 * The routing table's processor. Each event updates the row it is about;
 * then every region the batch touched gets its healthy-cluster count and its
 * vCPU totals recomputed from the cluster and node rows, so a region's figures
 * are always those of the last event applied. Nodes and capacity follow the
 * node aggregate's ledger: a reservation counts once committed; a release
 * drops a pending reservation, else gives back committed vCPUs.
 */
export function createRoutingApply() {
  const statements = new WeakMap<Database.Database, Statements>();

  function applyOne(s: Statements, event: RoutingEvent, touched: Set<string>): void {
    const touch = (regionId: string | undefined) => {
      if (regionId !== undefined) touched.add(regionId);
    };
    switch (event.type) {
      case 'RegionAdded': {
        const { regionId, lat, lon, costPerVcpuHour } = event.data;
        s.upsertRegion.run(regionId, lat, lon, costPerVcpuHour);
        return touch(regionId);
      }
      case 'RegionUpdated': {
        const { regionId, lat, lon, costPerVcpuHour } = event.data;
        s.updateRegion.run(lat, lon, costPerVcpuHour, regionId);
        return;
      }
      case 'RegionRetired':
        s.retireRegion.run(event.data.regionId);
        return;
      case 'ClusterJoined': {
        const { clusterId, regionId } = event.data;
        touch(s.cluster.get(clusterId)?.region_id);
        s.joinCluster.run(clusterId, regionId);
        return touch(regionId);
      }
      case 'ClusterLeft':
        touch(s.cluster.get(event.data.clusterId)?.region_id);
        s.leaveCluster.run(event.data.clusterId);
        return;
      case 'ClusterHealthReported':
        touch(s.cluster.get(event.data.clusterId)?.region_id);
        s.clusterHealth.run(event.data.healthy ? 1 : 0, event.data.clusterId);
        return;
      case 'NodeRegistered': {
        const { nodeId, regionId, capacity, overcommitRatio } = event.data;
        touch(s.node.get(nodeId)?.region_id);
        s.registerNode.run(nodeId, regionId, allocatableVcpus(capacity.vcpus, overcommitRatio));
        s.forgetNodeLedger.run(nodeId);
        s.forgetNodeReservations.run(nodeId);
        return touch(regionId);
      }
      case 'NodeCapacityChanged': {
        const { nodeId, capacity, overcommitRatio } = event.data;
        s.nodeCapacity.run(allocatableVcpus(capacity.vcpus, overcommitRatio), nodeId);
        return touch(s.node.get(nodeId)?.region_id);
      }
      case 'NodeDecommissioned':
      case 'NodeFailed':
        s.nodeGone.run(event.data.nodeId);
        return touch(s.node.get(event.data.nodeId)?.region_id);
      case 'CapacityReserved': {
        const { reservationId, nodeId, vmId, resources } = event.data;
        if (s.node.get(nodeId)) s.reserve.run(reservationId, nodeId, vmId, resources.vcpus);
        return;
      }
      case 'CapacityCommitted': {
        const { reservationId, nodeId } = event.data;
        const pending = s.reservation.get(reservationId, nodeId);
        if (!pending) return;
        s.dropReservation.run(reservationId);
        s.hold.run(nodeId, pending.vm_id, pending.vcpus);
        s.nodeAllocated.run(pending.vcpus, nodeId);
        return touch(s.node.get(nodeId)?.region_id);
      }
      case 'CapacityReleased': {
        const { reservationId, nodeId, vmId, resources } = event.data;
        if (s.reservation.get(reservationId, nodeId)) {
          s.dropReservation.run(reservationId);
          return;
        }
        const held = s.holding.get(nodeId, vmId);
        if (!held) return;
        const left = held.vcpus - resources.vcpus;
        if (left > 0) s.setHolding.run(left, nodeId, vmId);
        else s.dropHolding.run(nodeId, vmId);
        s.nodeAllocated.run(-resources.vcpus, nodeId);
        return touch(s.node.get(nodeId)?.region_id);
      }
      case 'TenantCreated':
        s.upsertTenant.run(event.data.tenantId, JSON.stringify(event.data.allowedRegions));
        return;
      case 'TenantDeleted':
        s.deleteTenant.run(event.data.tenantId);
        return;
      default: {
        const unexpected: never = event;
        throw new TypeError(`routing-table: no rule for ${(unexpected as RecordedEvent).type}`);
      }
    }
  }

  return (batch: readonly RecordedEvent[], db: Database.Database): void => {
    let s = statements.get(db);
    if (!s) statements.set(db, (s = prepare(db)));
    const touched = new Set<string>();
    for (const event of batch) applyOne(s, event as unknown as RoutingEvent, touched);
    for (const region of touched) s.recompute.run({ region });
  };
}
