/**
 * Given / when / then for the inventory: events in, the projection's queries
 * out, on a temporary SQLite file through the same state store the runner
 * commits with.
 *
 *   await given(regionAdded('eu'), nodeRegistered('n1', 'eu'))
 *     .when(nodeCordoned('n1'))
 *     .then((q) => expect(q.getNode('n1')?.status).toBe('cordoned'));
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventDataMap, EventType } from '../../schemas/generated/events.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { openSqliteStateStore, type SqliteStateStore } from '../../streams/processing/sqlite-state.ts';
import { createInventoryProjection } from './projection.ts';
import type { InventoryQueries } from './queries.ts';

export interface Given {
  streamId: string;
  type: string;
  data: Record<string, unknown>;
}

/** An event of the catalog, on the stream its data names. */
export function event<T extends EventType>(type: T, data: EventDataMap[T]): Given {
  const fields: Record<string, unknown> = { ...data };
  const id = (field: string) => String(fields[field]);
  const streamId = type.startsWith('Vm')
    ? `vm-${id('vmId')}`
    : type.startsWith('Tenant') || type.startsWith('Quota')
      ? `tenant-${id('tenantId')}`
      : type.startsWith('Node') || type.startsWith('Capacity')
        ? `node-${id('nodeId')}`
        : type.startsWith('Region')
          ? `region-${id('regionId')}`
          : `cluster-${id('clusterId')}`;
  return { streamId, type, data: fields };
}

export interface Inventory {
  queries: InventoryQueries;
  /** Applies events as one batch, each at the next revision of its stream and the next position. */
  apply(...events: Given[]): Promise<RecordedEvent[]>;
  /** Applies already-recorded events again (a redelivered batch). */
  reapply(events: readonly RecordedEvent[]): Promise<void>;
  state: SqliteStateStore;
  close(): Promise<void>;
}

export function openInventory(): Inventory {
  const dir = mkdtempSync(join(tmpdir(), 'novacron-inventory-'));
  const projection = createInventoryProjection();
  const state = openSqliteStateStore({ path: join(dir, 'inventory.db'), sync: 'normal', migrate: projection.migrate });
  const revisions = new Map<string, number>();
  let position = 0;
  let clock = Date.parse('2030-01-01T00:00:00Z');
  return {
    queries: projection.queries(state.db),
    state,
    async apply(...events) {
      const batch = events.map((e): RecordedEvent => {
        const revision = (revisions.get(e.streamId) ?? -1) + 1;
        revisions.set(e.streamId, revision);
        const occurredAt = new Date((clock += 1000)).toISOString();
        return {
          streamId: e.streamId,
          revision,
          position: ++position,
          type: e.type,
          data: e.data,
          metadata: { eventId: `e${position}`, tenantId: null, correlationId: 'test', causationId: null, actor: 'operator:test', occurredAt, schemaVersion: 1 },
          recordedAt: occurredAt,
        };
      });
      if (batch.length > 0) await state.commit(position, (db) => projection.apply(batch, db));
      return batch;
    },
    async reapply(events) {
      // The checkpoint never moves back: move it on by one (a position no event has) to commit the same events again.
      await state.commit(++position, (db) => projection.apply(events, db));
    },
    async close() {
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `given(events).when(events).then(check)`: a fresh inventory each time, closed after the check. */
export function given(...history: Given[]) {
  return {
    when(...events: Given[]) {
      return {
        async then(check: (queries: InventoryQueries, recorded: RecordedEvent[]) => void): Promise<void> {
          const inventory = openInventory();
          try {
            await inventory.apply(...history);
            const recorded = await inventory.apply(...events);
            check(inventory.queries, recorded);
          } finally {
            await inventory.close();
          }
        },
      };
    },
  };
}

// ── events with sensible defaults ───────────────────────────────────────────

const spec = { vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12' };
const quota = { vms: 10, vcpus: 40, memoryMiB: 65_536, diskGiB: 1000 };

export const regionAdded = (regionId: string, extra: Partial<EventDataMap['RegionAdded']> = {}) =>
  event('RegionAdded', { regionId, name: regionId, lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02, shards: 100, ...extra });
export const regionUpdated = (regionId: string, change: Partial<EventDataMap['RegionUpdated']>) =>
  event('RegionUpdated', { regionId, name: null, lat: null, lon: null, complianceZone: null, costPerVcpuHour: null, shards: null, ...change });
export const regionRetired = (regionId: string) => event('RegionRetired', { regionId });

export const clusterJoined = (clusterId: string, regionId: string) => event('ClusterJoined', { clusterId, regionId });
export const clusterLeft = (clusterId: string, regionId: string) => event('ClusterLeft', { clusterId, regionId });
export const clusterHealth = (clusterId: string, regionId: string, healthy: boolean) =>
  event('ClusterHealthReported', { clusterId, regionId, healthy, detail: healthy ? null : 'probe failed' });

export const nodeRegistered = (nodeId: string, regionId: string, { vcpus = 16, memoryMiB = 65_536, diskGiB = 2000, overcommitRatio = 1, clusterId = null as string | null } = {}) =>
  event('NodeRegistered', { nodeId, regionId, clusterId, capacity: { vcpus, memoryMiB, diskGiB }, overcommitRatio, labels: {} });
export const nodeCapacityChanged = (nodeId: string, capacity: { vcpus: number; memoryMiB: number; diskGiB: number }, overcommitRatio = 1) =>
  event('NodeCapacityChanged', { nodeId, capacity, overcommitRatio });
export const nodeCordoned = (nodeId: string) => event('NodeCordoned', { nodeId, reason: null });
export const nodeUncordoned = (nodeId: string) => event('NodeUncordoned', { nodeId });
export const nodeDrainStarted = (nodeId: string, vmIds: string[] = []) => event('NodeDrainStarted', { nodeId, vmIds });
export const nodeFailed = (nodeId: string, vmIds: string[] = []) => event('NodeFailed', { nodeId, reason: 'power', vmIds });
export const nodeDecommissioned = (nodeId: string) => event('NodeDecommissioned', { nodeId });

export const capacityReserved = (nodeId: string, reservationId: string, vmId: string, resources = { vcpus: 2, memoryMiB: 2048, diskGiB: 20 }) =>
  event('CapacityReserved', { nodeId, reservationId, vmId, resources, expiresAt: '2030-01-01T00:10:00Z' });
export const capacityCommitted = (nodeId: string, reservationId: string, vmId: string) => event('CapacityCommitted', { nodeId, reservationId, vmId });
export const capacityReleased = (
  nodeId: string,
  reservationId: string,
  vmId: string,
  reason: EventDataMap['CapacityReleased']['reason'],
  resources = { vcpus: 2, memoryMiB: 2048, diskGiB: 20 },
) => event('CapacityReleased', { nodeId, reservationId, vmId, resources, reason });

export const tenantCreated = (tenantId: string, extra: Partial<EventDataMap['TenantCreated']> = {}) =>
  event('TenantCreated', { tenantId, name: tenantId, contactEmail: `ops@${tenantId}.example`, quota, allowedRegions: ['eu-west'], ...extra });
export const tenantQuotaChanged = (tenantId: string, q: EventDataMap['TenantQuotaChanged']['quota']) => event('TenantQuotaChanged', { tenantId, quota: q });
export const tenantSuspended = (tenantId: string) => event('TenantSuspended', { tenantId, reason: 'unpaid' });
export const tenantReactivated = (tenantId: string) => event('TenantReactivated', { tenantId });
export const tenantDeleted = (tenantId: string) => event('TenantDeleted', { tenantId });

export const quotaReserved = (tenantId: string, reservationId: string, vmId: string, resources = { vms: 1, vcpus: 2, memoryMiB: 2048, diskGiB: 20 }) =>
  event('QuotaReserved', { tenantId, reservationId, vmId, resources, expiresAt: '2030-01-01T00:10:00Z' });
export const quotaCommitted = (tenantId: string, reservationId: string, vmId: string) => event('QuotaCommitted', { tenantId, reservationId, vmId });
export const quotaReleased = (
  tenantId: string,
  reservationId: string,
  vmId: string,
  reason: EventDataMap['QuotaReleased']['reason'],
  resources = { vms: 1, vcpus: 2, memoryMiB: 2048, diskGiB: 20 },
) => event('QuotaReleased', { tenantId, reservationId, vmId, resources, reason });

export const vmCreated = (vmId: string, { tenantId = 'acme', nodeId = 'n1', regionId = 'eu-west', clusterId = null as string | null, name = vmId, size = spec } = {}) =>
  event('VmCreated', {
    vmId,
    tenantId,
    name,
    spec: size,
    regionId,
    clusterId,
    nodeId,
    quotaReservationId: `q-${vmId}`,
    capacityReservationId: `c-${vmId}`,
    sshPublicKeys: [],
    userData: null,
    labels: {},
  });
export const vmStarted = (vmId: string, nodeId = 'n1') => event('VmStarted', { vmId, nodeId });
export const vmStopped = (vmId: string, nodeId = 'n1') => event('VmStopped', { vmId, nodeId, reason: null });
export const vmRestarted = (vmId: string, nodeId = 'n1') => event('VmRestarted', { vmId, nodeId });
export const vmPaused = (vmId: string) => event('VmPaused', { vmId });
export const vmResumed = (vmId: string) => event('VmResumed', { vmId });
export const vmResized = (vmId: string, from: { vcpus: number; memoryMiB: number; diskGiB: number }, to: { vcpus: number; memoryMiB: number; diskGiB: number }) =>
  event('VmResized', { vmId, from, to, quotaReservationId: null, capacityReservationId: null });
export const vmMigrationStarted = (vmId: string, migrationId: string, { kind = 'live' as 'cold' | 'warm' | 'live', sourceNodeId = 'n1', targetNodeId = 'n2', targetRegionId = 'eu-west' } = {}) =>
  event('VmMigrationStarted', { vmId, migrationId, kind, sourceNodeId, targetNodeId, targetRegionId, capacityReservationId: `m-${migrationId}` });
export const vmMigrationCompleted = (vmId: string, migrationId: string, sourceNodeId = 'n1', targetNodeId = 'n2') =>
  event('VmMigrationCompleted', { vmId, migrationId, sourceNodeId, targetNodeId });
export const vmMigrationFailed = (vmId: string, migrationId: string, sourceNodeId = 'n1', targetNodeId = 'n2') =>
  event('VmMigrationFailed', { vmId, migrationId, sourceNodeId, targetNodeId, reason: 'link down' });
export const vmSnapshotTaken = (vmId: string, snapshotId = 's1') => event('VmSnapshotTaken', { vmId, snapshotId, name: snapshotId });
export const vmDeleted = (vmId: string, tenantId = 'acme', nodeId = 'n1') => event('VmDeleted', { vmId, tenantId, nodeId });
export const vmFailed = (vmId: string, nodeId = 'n1') => event('VmFailed', { vmId, nodeId, reason: 'node failed' });
