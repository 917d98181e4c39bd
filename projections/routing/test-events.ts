/** Event builders and an in-memory routing table, for the routing projection's tests. */
import { openSqliteStateStore } from '../../streams/processing/sqlite-state.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { createRoutingProjection } from './projection.ts';
import type { RoutingQueries } from './queries.ts';

export interface DomainEvent {
  streamId: string;
  type: string;
  data: Record<string, unknown>;
}

const at = (streamId: string, type: string, data: Record<string, unknown>): DomainEvent => ({ streamId, type, data });

export const ev = {
  regionAdded: (regionId: string, lat: number, lon: number, costPerVcpuHour = 0.05) =>
    at(`region-${regionId}`, 'RegionAdded', { regionId, name: regionId, lat, lon, complianceZone: 'eu', costPerVcpuHour, shards: 100 }),
  regionUpdated: (regionId: string, change: { lat?: number; lon?: number; costPerVcpuHour?: number }) =>
    at(`region-${regionId}`, 'RegionUpdated', {
      regionId,
      name: null,
      complianceZone: null,
      shards: null,
      lat: change.lat ?? null,
      lon: change.lon ?? null,
      costPerVcpuHour: change.costPerVcpuHour ?? null,
    }),
  regionRetired: (regionId: string) => at(`region-${regionId}`, 'RegionRetired', { regionId }),
  clusterJoined: (clusterId: string, regionId: string) => at(`cluster-${clusterId}`, 'ClusterJoined', { clusterId, regionId }),
  clusterLeft: (clusterId: string, regionId: string) => at(`cluster-${clusterId}`, 'ClusterLeft', { clusterId, regionId }),
  health: (clusterId: string, regionId: string, healthy: boolean) =>
    at(`cluster-${clusterId}`, 'ClusterHealthReported', { clusterId, regionId, healthy, detail: null }),
  nodeRegistered: (nodeId: string, regionId: string, vcpus: number, overcommitRatio = 1) =>
    at(`node-${nodeId}`, 'NodeRegistered', { nodeId, regionId, clusterId: null, capacity: { vcpus, memoryMiB: 65_536, diskGiB: 1000 }, overcommitRatio, labels: {} }),
  nodeCapacity: (nodeId: string, vcpus: number, overcommitRatio = 1) =>
    at(`node-${nodeId}`, 'NodeCapacityChanged', { nodeId, capacity: { vcpus, memoryMiB: 65_536, diskGiB: 1000 }, overcommitRatio }),
  nodeFailed: (nodeId: string) => at(`node-${nodeId}`, 'NodeFailed', { nodeId, reason: 'power', vmIds: [] }),
  nodeDecommissioned: (nodeId: string) => at(`node-${nodeId}`, 'NodeDecommissioned', { nodeId }),
  reserved: (nodeId: string, reservationId: string, vmId: string, vcpus: number) =>
    at(`node-${nodeId}`, 'CapacityReserved', {
      nodeId,
      reservationId,
      vmId,
      resources: { vcpus, memoryMiB: 1024, diskGiB: 10 },
      expiresAt: '2030-01-01T00:00:00.000Z',
    }),
  committed: (nodeId: string, reservationId: string, vmId: string) => at(`node-${nodeId}`, 'CapacityCommitted', { nodeId, reservationId, vmId }),
  released: (nodeId: string, reservationId: string, vmId: string, vcpus: number) =>
    at(`node-${nodeId}`, 'CapacityReleased', { nodeId, reservationId, vmId, resources: { vcpus, memoryMiB: 1024, diskGiB: 10 }, reason: 'vm_deleted' }),
  tenantCreated: (tenantId: string, allowedRegions: string[]) =>
    at(`tenant-${tenantId}`, 'TenantCreated', {
      tenantId,
      name: tenantId,
      contactEmail: `ops@${tenantId}.example`,
      quota: { vms: 10, vcpus: 100, memoryMiB: 100_000, diskGiB: 1000 },
      allowedRegions,
    }),
  tenantDeleted: (tenantId: string) => at(`tenant-${tenantId}`, 'TenantDeleted', { tenantId }),
};

/**
 * A routing table in memory, fed through the same commit path the runner
 * uses (one SQLite transaction per batch, with the checkpoint).
 */
export function routingTable() {
  const projection = createRoutingProjection();
  const state = openSqliteStateStore({ path: ':memory:', migrate: (db) => projection.migrate(db) });
  const queries: RoutingQueries = projection.queries(state.db);
  const revisions = new Map<string, number>();
  let position = 0;
  const record = ({ streamId, type, data }: DomainEvent): RecordedEvent => {
    const revision = revisions.get(streamId) ?? 0;
    revisions.set(streamId, revision + 1);
    position++;
    return {
      streamId,
      revision,
      position,
      type,
      data,
      recordedAt: new Date(0).toISOString(),
      metadata: { eventId: `e${position}`, tenantId: null, correlationId: 'c', causationId: null, actor: 'test', occurredAt: new Date(0).toISOString(), schemaVersion: 1 },
    };
  };
  return {
    queries,
    /** Applies the events as one batch (as a runner would, skipping the types the projection does not handle). */
    async apply(...events: DomainEvent[]): Promise<void> {
      if (events.length === 0) return;
      const batch = events.map(record);
      const handled = new Set<string>(projection.handles);
      await state.commit(position, (db) => projection.apply(batch.filter((e) => handled.has(e.type)), db));
    },
    close: () => state.close(),
  };
}
