/**
 * Writes a realistic fleet log for benchmarks: regions, clusters, nodes,
 * tenants, then VMs going through the reservation saga and a life of starts,
 * stops, resizes, migrations and deletions, spread over simulated weeks (the
 * events' occurredAt advances, so forecasts see a series). Events are valid
 * catalog events appended through the event store port, a stream at a time.
 */
import type { EventStore, NewEvent } from '../streams/eventstore/index.ts';
import { newEventId } from '../streams/eventstore/index.ts';

export interface FleetLogOptions {
  /** Roughly how many events to write. */
  events: number;
  regions?: number;
  nodesPerRegion?: number;
  tenants?: number;
  /** Simulated span of the log. */
  days?: number;
  onProgress?: (written: number) => void;
}

export async function writeFleetLog(store: EventStore, { events, regions = 5, nodesPerRegion = 40, tenants = 200, days = 70, onProgress }: FleetLogOptions): Promise<number> {
  const start = Date.parse('2026-01-01T00:00:00Z');
  let written = 0;
  let clock = start;
  const stepMs = (days * 86_400_000) / Math.max(1, events);
  const at = () => {
    clock += stepMs;
    return new Date(clock).toISOString();
  };
  const ev = (type: string, data: Record<string, unknown>, tenantId: string | null = null): NewEvent => ({
    type,
    data,
    metadata: { eventId: newEventId(), tenantId, actor: 'system:bench', occurredAt: at() },
  });
  let pending: Promise<unknown>[] = [];
  const append = (stream: string, list: NewEvent[]) => {
    pending.push(store.append(stream, list));
    written += list.length;
  };
  const flush = async () => {
    await Promise.all(pending);
    pending = [];
    onProgress?.(written);
  };

  const regionIds = Array.from({ length: regions }, (_, r) => `region${r}`);
  const nodes: Array<{ nodeId: string; regionId: string; clusterId: string }> = [];
  regionIds.forEach((regionId, r) => {
    append(`region-${regionId}`, [ev('RegionAdded', { regionId, name: regionId, lat: -40 + r * 20, lon: -120 + r * 50, complianceZone: r % 2 ? 'eu' : 'us', costPerVcpuHour: 0.01 + r * 0.002, shards: 100 })]);
    for (let c = 0; c < 2; c++) {
      const clusterId = `${regionId}-c${c}`;
      append(`cluster-${clusterId}`, [ev('ClusterJoined', { clusterId, regionId }), ev('ClusterHealthReported', { clusterId, regionId, healthy: true, detail: null })]);
    }
    for (let n = 0; n < nodesPerRegion; n++) {
      const node = { nodeId: `${regionId}-n${n}`, regionId, clusterId: `${regionId}-c${n % 2}` };
      nodes.push(node);
      append(`node-${node.nodeId}`, [ev('NodeRegistered', { ...node, capacity: { vcpus: 256, memoryMiB: 1_048_576, diskGiB: 100_000 }, overcommitRatio: 2, labels: {} })]);
    }
  });
  const tenantIds = Array.from({ length: tenants }, (_, t) => `tenant${t}`);
  for (const tenantId of tenantIds) {
    append(`tenant-${tenantId}`, [
      ev('TenantCreated', { tenantId, name: tenantId, contactEmail: `ops@${tenantId}.example`, quota: { vms: 1_000_000, vcpus: 100_000_000, memoryMiB: 2_000_000_000, diskGiB: 2_000_000_000 }, allowedRegions: regionIds }, tenantId),
    ]);
  }
  await flush();

  for (let v = 0; written < events; v++) {
    const tenantId = tenantIds[v % tenantIds.length] as string;
    const node = nodes[(v * 7) % nodes.length] as (typeof nodes)[number];
    const vmId = `vm${v}`;
    const size = { vcpus: 1 + (v % 4), memoryMiB: 1024 * (1 + (v % 4)), diskGiB: 20 };
    const q = `q${v}`;
    const c = `c${v}`;
    const expiresAt = new Date(clock + 30_000).toISOString();
    append(`tenant-${tenantId}`, [ev('QuotaReserved', { tenantId, reservationId: q, vmId, resources: { vms: 1, ...size }, expiresAt }, tenantId)]);
    append(`node-${node.nodeId}`, [ev('CapacityReserved', { nodeId: node.nodeId, reservationId: c, vmId, resources: size, expiresAt })]);
    const life: NewEvent[] = [
      ev('VmCreated', { vmId, tenantId, name: vmId, spec: { ...size, image: 'debian-12' }, regionId: node.regionId, clusterId: node.clusterId, nodeId: node.nodeId, quotaReservationId: q, capacityReservationId: c, sshPublicKeys: [], userData: null, labels: {} }, tenantId),
      ev('VmStarted', { vmId, nodeId: node.nodeId }, tenantId),
      ev('VmStopped', { vmId, nodeId: node.nodeId, reason: null }, tenantId),
      ev('VmStarted', { vmId, nodeId: node.nodeId }, tenantId),
      ev('VmSnapshotTaken', { vmId, snapshotId: `s${v}`, name: 'nightly' }, tenantId),
    ];
    append(`vm-${vmId}`, life);
    append(`tenant-${tenantId}`, [ev('QuotaCommitted', { tenantId, reservationId: q, vmId }, tenantId)]);
    append(`node-${node.nodeId}`, [ev('CapacityCommitted', { nodeId: node.nodeId, reservationId: c, vmId })]);
    if (v % 3 === 0) {
      append(`vm-${vmId}`, [ev('VmStopped', { vmId, nodeId: node.nodeId, reason: null }, tenantId), ev('VmDeleted', { vmId, tenantId, nodeId: node.nodeId }, tenantId)]);
      append(`tenant-${tenantId}`, [ev('QuotaReleased', { tenantId, reservationId: q, vmId, resources: { vms: 1, ...size }, reason: 'vm_deleted' }, tenantId)]);
      append(`node-${node.nodeId}`, [ev('CapacityReleased', { nodeId: node.nodeId, reservationId: c, vmId, resources: size, reason: 'vm_deleted' })]);
    }
    if (v % 64 === 63) await flush();
  }
  await flush();
  return written;
}
