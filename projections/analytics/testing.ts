/**
 * Test helpers: fleet events at given instants (valid against the catalog, so
 * the event store takes them), a seeded generator of plausible fleet
 * histories, and the projection applied in memory with the store's
 * semantics (rows collapse by key to the highest version; state read as of
 * the checkpoint), for tests that need no ClickHouse.
 */
import { defaultCatalog } from '../../streams/catalog/index.ts';
import type { EventStore, RecordedEvent } from '../../streams/eventstore/index.ts';
import type { ClickHouseTable, ClickHouseWriter } from '../../streams/clickhouse/state.ts';
import { createAnalyticsProjection } from './projection.ts';
import { mulberry32 } from '../capacity-forecast/model/prng.ts';

export interface TimedEvent {
  streamId: string;
  type: string;
  data: Record<string, unknown>;
  occurredAt: string;
  tenantId: string | null;
}

const size = (vcpus: number, memoryMiB: number, diskGiB = 10) => ({ vcpus, memoryMiB, diskGiB });
const node = (nodeId: string) => `node-${nodeId}`;
const vm = (vmId: string) => `vm-${vmId}`;

/** One builder per event type the tests use; `at` is metadata.occurredAt. */
export const ev = {
  regionAdded: (regionId: string, at: string): TimedEvent => ({
    streamId: `region-${regionId}`,
    type: 'RegionAdded',
    data: { regionId, name: regionId, lat: 50, lon: 8, complianceZone: 'eu', costPerVcpuHour: 0.02, shards: 100 },
    occurredAt: at,
    tenantId: null,
  }),
  clusterHealth: (clusterId: string, regionId: string, at: string, healthy = true): TimedEvent => ({
    streamId: `cluster-${clusterId}`,
    type: 'ClusterHealthReported',
    data: { clusterId, regionId, healthy, detail: null },
    occurredAt: at,
    tenantId: null,
  }),
  tenantCreated: (tenantId: string, at: string, contactEmail = `ops@${tenantId}.example`): TimedEvent => ({
    streamId: `tenant-${tenantId}`,
    type: 'TenantCreated',
    data: { tenantId, name: tenantId, contactEmail, quota: { vms: 100, vcpus: 1000, memoryMiB: 4_000_000, diskGiB: 100_000 }, allowedRegions: ['eu-west', 'us-east'] },
    occurredAt: at,
    tenantId,
  }),
  nodeRegistered: (nodeId: string, regionId: string, clusterId: string | null, vcpus: number, memoryMiB: number, at: string, overcommitRatio = 1): TimedEvent => ({
    streamId: node(nodeId),
    type: 'NodeRegistered',
    data: { nodeId, regionId, clusterId, capacity: size(vcpus, memoryMiB, 2000), overcommitRatio, labels: {} },
    occurredAt: at,
    tenantId: null,
  }),
  nodeCapacityChanged: (nodeId: string, vcpus: number, memoryMiB: number, at: string, overcommitRatio = 1): TimedEvent => ({
    streamId: node(nodeId),
    type: 'NodeCapacityChanged',
    data: { nodeId, capacity: size(vcpus, memoryMiB, 2000), overcommitRatio },
    occurredAt: at,
    tenantId: null,
  }),
  nodeFailed: (nodeId: string, at: string, vmIds: string[] = []): TimedEvent => ({
    streamId: node(nodeId),
    type: 'NodeFailed',
    data: { nodeId, reason: 'power', vmIds },
    occurredAt: at,
    tenantId: null,
  }),
  capacityReserved: (nodeId: string, reservationId: string, vmId: string, vcpus: number, memoryMiB: number, at: string): TimedEvent => ({
    streamId: node(nodeId),
    type: 'CapacityReserved',
    data: { nodeId, reservationId, vmId, resources: size(vcpus, memoryMiB), expiresAt: '2100-01-01T00:00:00.000Z' },
    occurredAt: at,
    tenantId: null,
  }),
  capacityCommitted: (nodeId: string, reservationId: string, vmId: string, at: string): TimedEvent => ({
    streamId: node(nodeId),
    type: 'CapacityCommitted',
    data: { nodeId, reservationId, vmId },
    occurredAt: at,
    tenantId: null,
  }),
  capacityReleased: (nodeId: string, reservationId: string, vmId: string, vcpus: number, memoryMiB: number, at: string, reason = 'vm_deleted'): TimedEvent => ({
    streamId: node(nodeId),
    type: 'CapacityReleased',
    data: { nodeId, reservationId, vmId, resources: size(vcpus, memoryMiB), reason },
    occurredAt: at,
    tenantId: null,
  }),
  vmCreated: (
    vmId: string,
    o: { tenantId: string; regionId: string; clusterId: string | null; nodeId: string; vcpus: number; memoryMiB: number; sshPublicKeys?: string[] },
    at: string,
  ): TimedEvent => ({
    streamId: vm(vmId),
    type: 'VmCreated',
    data: {
      vmId,
      tenantId: o.tenantId,
      name: `vm ${vmId}`,
      spec: { ...size(o.vcpus, o.memoryMiB), image: 'debian-12' },
      regionId: o.regionId,
      clusterId: o.clusterId,
      nodeId: o.nodeId,
      quotaReservationId: `q-${vmId}`,
      capacityReservationId: `r-${vmId}`,
      sshPublicKeys: o.sshPublicKeys ?? [],
      userData: null,
      labels: {},
    },
    occurredAt: at,
    tenantId: o.tenantId,
  }),
  vmStarted: (vmId: string, tenantId: string, nodeId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmStarted', data: { vmId, nodeId }, occurredAt: at, tenantId }),
  vmStopped: (vmId: string, tenantId: string, nodeId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmStopped', data: { vmId, nodeId, reason: null }, occurredAt: at, tenantId }),
  vmRestarted: (vmId: string, tenantId: string, nodeId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmRestarted', data: { vmId, nodeId }, occurredAt: at, tenantId }),
  vmPaused: (vmId: string, tenantId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmPaused', data: { vmId }, occurredAt: at, tenantId }),
  vmResumed: (vmId: string, tenantId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmResumed', data: { vmId }, occurredAt: at, tenantId }),
  vmSnapshot: (vmId: string, tenantId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmSnapshotTaken', data: { vmId, snapshotId: `s-${at}`, name: 'nightly' }, occurredAt: at, tenantId }),
  vmResized: (vmId: string, tenantId: string, from: { vcpus: number; memoryMiB: number }, to: { vcpus: number; memoryMiB: number }, at: string): TimedEvent => ({
    streamId: vm(vmId),
    type: 'VmResized',
    data: { vmId, from: size(from.vcpus, from.memoryMiB), to: size(to.vcpus, to.memoryMiB), quotaReservationId: null, capacityReservationId: null },
    occurredAt: at,
    tenantId,
  }),
  vmMigrationStarted: (vmId: string, tenantId: string, m: { migrationId: string; sourceNodeId: string; targetNodeId: string; targetRegionId: string }, at: string): TimedEvent => ({
    streamId: vm(vmId),
    type: 'VmMigrationStarted',
    data: { vmId, migrationId: m.migrationId, kind: 'live', sourceNodeId: m.sourceNodeId, targetNodeId: m.targetNodeId, targetRegionId: m.targetRegionId, capacityReservationId: `r-${m.migrationId}` },
    occurredAt: at,
    tenantId,
  }),
  vmMigrationCompleted: (vmId: string, tenantId: string, m: { migrationId: string; sourceNodeId: string; targetNodeId: string }, at: string): TimedEvent => ({
    streamId: vm(vmId),
    type: 'VmMigrationCompleted',
    data: { vmId, migrationId: m.migrationId, sourceNodeId: m.sourceNodeId, targetNodeId: m.targetNodeId },
    occurredAt: at,
    tenantId,
  }),
  vmMigrationFailed: (vmId: string, tenantId: string, m: { migrationId: string; sourceNodeId: string; targetNodeId: string }, at: string): TimedEvent => ({
    streamId: vm(vmId),
    type: 'VmMigrationFailed',
    data: { vmId, migrationId: m.migrationId, sourceNodeId: m.sourceNodeId, targetNodeId: m.targetNodeId, reason: 'timeout' },
    occurredAt: at,
    tenantId,
  }),
  vmFailed: (vmId: string, tenantId: string, nodeId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmFailed', data: { vmId, nodeId, reason: 'node failed' }, occurredAt: at, tenantId }),
  vmDeleted: (vmId: string, tenantId: string, nodeId: string, at: string): TimedEvent => ({ streamId: vm(vmId), type: 'VmDeleted', data: { vmId, tenantId, nodeId }, occurredAt: at, tenantId }),
};

/** Appends the events one by one, in order (their positions follow the list). */
export async function appendAll(store: EventStore, events: readonly TimedEvent[]): Promise<number> {
  let position = 0;
  for (const e of events) {
    const result = await store.append(e.streamId, [{ type: e.type, data: e.data, metadata: { occurredAt: e.occurredAt, tenantId: e.tenantId, actor: 'operator:test', correlationId: `c-${e.streamId}` } }]);
    position = result.position;
  }
  return position;
}

/** As the event store would record them (no encryption): positions from `firstPosition`, revisions per stream, recordedAt = occurredAt unless given. */
export function recordedOf(events: readonly TimedEvent[], { firstPosition = 1, recordedAt }: { firstPosition?: number; recordedAt?: (e: TimedEvent) => string } = {}): RecordedEvent[] {
  const revisions = new Map<string, number>();
  return events.map((e, i) => {
    const revision = (revisions.get(e.streamId) ?? -1) + 1;
    revisions.set(e.streamId, revision);
    return {
      streamId: e.streamId,
      revision,
      position: firstPosition + i,
      type: e.type,
      data: e.data,
      metadata: { eventId: `e-${firstPosition + i}`, tenantId: e.tenantId, correlationId: `c-${e.streamId}`, causationId: null, actor: 'operator:test', occurredAt: e.occurredAt, schemaVersion: defaultCatalog().version(e.type) },
      recordedAt: recordedAt ? recordedAt(e) : e.occurredAt,
    };
  });
}

interface GenVm {
  id: string;
  tenantId: string;
  nodeId: string;
  vcpus: number;
  memoryMiB: number;
  state: 'stopped' | 'running' | 'paused';
  reservation: string;
}

/**
 * A plausible fleet history: two regions, clusters and nodes, two tenants, and
 * `steps` lifecycle steps of VMs (create with their capacity reservation,
 * start, stop, pause, resume, restart, resize, migrate, fail with their node,
 * delete and release), 1–40 minutes apart from `start`, with cluster health
 * reports between them and now and then an event a few minutes in the past.
 */
export function generateHistory({ seed = 1, steps = 120, start = '2026-03-01T08:00:00.000Z' }: { seed?: number; steps?: number; start?: string } = {}): TimedEvent[] {
  const rand = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  let t = Date.parse(start);
  const at = () => new Date(t).toISOString();
  const tick = () => (t += Math.floor(1 + rand() * 40) * 60_000);
  const out: TimedEvent[] = [];
  const nodes = [
    { id: 'n1', regionId: 'eu-west', clusterId: 'eu-west-c1', vcpus: 64, memoryMiB: 262_144 },
    { id: 'n2', regionId: 'eu-west', clusterId: 'eu-west-c2', vcpus: 32, memoryMiB: 131_072 },
    { id: 'n3', regionId: 'eu-west', clusterId: null, vcpus: 16, memoryMiB: 65_536 },
    { id: 'n4', regionId: 'us-east', clusterId: 'us-east-c1', vcpus: 64, memoryMiB: 262_144 },
  ];
  const live = new Set(nodes.map((n) => n.id));
  out.push(ev.regionAdded('eu-west', at()), ev.regionAdded('us-east', at()), ev.tenantCreated('acme', at()), ev.tenantCreated('globex', at()));
  for (const n of nodes) out.push(ev.nodeRegistered(n.id, n.regionId, n.clusterId, n.vcpus, n.memoryMiB, at(), n.id === 'n3' ? 2 : 1));
  const vms: GenVm[] = [];
  let next = 0;
  for (let step = 0; step < steps; step++) {
    tick();
    const roll = rand();
    const vm = vms.length > 0 ? pick(vms) : undefined;
    const nodeOf = (id: string) => nodes.find((n) => n.id === id) as (typeof nodes)[number];
    if (roll < 0.22 || !vm) {
      const n = nodeOf(pick([...live]));
      const v: GenVm = { id: `v${++next}`, tenantId: pick(['acme', 'globex']), nodeId: n.id, vcpus: pick([1, 2, 4, 8]), memoryMiB: pick([1024, 4096, 8192]), state: 'stopped', reservation: `r-v${next}` };
      out.push(ev.capacityReserved(n.id, v.reservation, v.id, v.vcpus, v.memoryMiB, at()), ev.capacityCommitted(n.id, v.reservation, v.id, at()));
      out.push(ev.vmCreated(v.id, { tenantId: v.tenantId, regionId: n.regionId, clusterId: n.clusterId, nodeId: n.id, vcpus: v.vcpus, memoryMiB: v.memoryMiB, sshPublicKeys: ['ssh-ed25519 AAAA test'] }, at()));
      if (rand() < 0.7) {
        out.push(ev.vmStarted(v.id, v.tenantId, n.id, at()));
        v.state = 'running';
      }
      vms.push(v);
    } else if (roll < 0.4) {
      if (vm.state === 'running') out.push(ev.vmStopped(vm.id, vm.tenantId, vm.nodeId, at()));
      else if (vm.state === 'stopped') out.push(ev.vmStarted(vm.id, vm.tenantId, vm.nodeId, at()));
      else out.push(ev.vmResumed(vm.id, vm.tenantId, at()));
      vm.state = vm.state === 'running' ? 'stopped' : 'running';
    } else if (roll < 0.48) {
      if (vm.state === 'running') {
        out.push(ev.vmPaused(vm.id, vm.tenantId, at()));
        vm.state = 'paused';
      } else out.push(ev.vmSnapshot(vm.id, vm.tenantId, at()));
    } else if (roll < 0.53) {
      if (vm.state === 'running') out.push(ev.vmRestarted(vm.id, vm.tenantId, vm.nodeId, at()));
    } else if (roll < 0.6) {
      if (vm.state === 'stopped') {
        const to = { vcpus: vm.vcpus * 2, memoryMiB: vm.memoryMiB * 2 };
        const reservation = `${vm.reservation}-x`;
        out.push(ev.capacityReserved(vm.nodeId, reservation, vm.id, to.vcpus - vm.vcpus, to.memoryMiB - vm.memoryMiB, at()), ev.capacityCommitted(vm.nodeId, reservation, vm.id, at()));
        out.push(ev.vmResized(vm.id, vm.tenantId, vm, to, at()));
        Object.assign(vm, to);
      }
    } else if (roll < 0.7) {
      const targets = [...live].filter((id) => id !== vm.nodeId);
      if (vm.state !== 'paused' && targets.length > 0) {
        const target = nodeOf(pick(targets));
        const m = { migrationId: `m${step}`, sourceNodeId: vm.nodeId, targetNodeId: target.id, targetRegionId: target.regionId };
        out.push(ev.capacityReserved(target.id, `r-${m.migrationId}`, vm.id, vm.vcpus, vm.memoryMiB, at()), ev.vmMigrationStarted(vm.id, vm.tenantId, m, at()));
        tick();
        if (rand() < 0.8) {
          out.push(ev.capacityCommitted(target.id, `r-${m.migrationId}`, vm.id, at()), ev.vmMigrationCompleted(vm.id, vm.tenantId, m, at()));
          out.push(ev.capacityReleased(vm.nodeId, vm.reservation, vm.id, vm.vcpus, vm.memoryMiB, at(), 'vm_migrated'));
          vm.nodeId = target.id;
          vm.reservation = `r-${m.migrationId}`;
        } else {
          out.push(ev.vmMigrationFailed(vm.id, vm.tenantId, m, at()), ev.capacityReleased(target.id, `r-${m.migrationId}`, vm.id, vm.vcpus, vm.memoryMiB, at(), 'compensated'));
        }
      }
    } else if (roll < 0.8) {
      out.push(ev.vmDeleted(vm.id, vm.tenantId, vm.nodeId, at()), ev.capacityReleased(vm.nodeId, vm.reservation, vm.id, vm.vcpus, vm.memoryMiB, at()));
      vms.splice(vms.indexOf(vm), 1);
    } else if (roll < 0.82 && live.size > 2) {
      // A node fails: its VMs fail (they keep their allocations until deleted).
      const failing = pick([...live]);
      live.delete(failing);
      const victims = vms.filter((v) => v.nodeId === failing);
      out.push(ev.nodeFailed(failing, at(), victims.map((v) => v.id)));
      for (const v of victims) {
        out.push(ev.vmFailed(v.id, v.tenantId, failing, at()), ev.vmDeleted(v.id, v.tenantId, failing, at()), ev.capacityReleased(failing, v.reservation, v.id, v.vcpus, v.memoryMiB, at()));
        vms.splice(vms.indexOf(v), 1);
      }
    } else if (roll < 0.85) {
      const n = nodeOf(pick([...live]));
      n.vcpus += 8;
      out.push(ev.nodeCapacityChanged(n.id, n.vcpus, n.memoryMiB, at()));
    } else {
      // An event a few minutes in the past (another writer's clock), and health reports that only move stream time.
      out.push(ev.clusterHealth('eu-west-c1', 'eu-west', new Date(t - 10 * 60_000).toISOString()));
    }
  }
  return out;
}

export interface MemoryTables {
  /** Per table: row id → the row with the highest version (rows without a version: the last written). */
  tables: Map<string, Map<string, Record<string, unknown>>>;
  /** The checkpoint and the state as of it. */
  checkpoint: number;
  state: Map<string, string>;
}

/** A fresh in-memory store with the ClickHouse store's semantics. */
export function memoryTables(): MemoryTables {
  return { tables: new Map(), checkpoint: 0, state: new Map() };
}

/**
 * Applies `batch` to `m` through the analytics projection as the ClickHouse
 * store would: rows collapse by key to the highest `version`; state is read
 * as of the checkpoint. `crash: true` writes the rows (as a crash between
 * them and the checkpoint leaves them) but neither the state nor the checkpoint.
 */
export async function applyInMemory(m: MemoryTables, batch: readonly RecordedEvent[], { crash = false } = {}): Promise<void> {
  const projection = createAnalyticsProjection();
  const puts = new Map<string, string | null>();
  const rows: Array<[ClickHouseTable, string, Record<string, unknown>]> = [];
  const writer: ClickHouseWriter = {
    checkpoint: m.checkpoint,
    async get(keys) {
      const out = new Map<string, unknown>();
      for (const key of keys) {
        const json = puts.has(key) ? puts.get(key) : m.state.get(key);
        if (json !== undefined && json !== null) out.set(key, JSON.parse(json));
      }
      return out;
    },
    put(key, value) {
      puts.set(key, value === undefined ? null : JSON.stringify(value));
    },
    write(table, id, row) {
      rows.push([table, id, row as Record<string, unknown>]);
    },
  };
  await projection.apply(batch, writer);
  for (const [table, id, row] of rows) {
    let t = m.tables.get(table.name);
    if (!t) m.tables.set(table.name, (t = new Map()));
    const held = t.get(id);
    if (!held || !('version' in row) || Number(row['version']) >= Number(held['version'])) t.set(id, row);
  }
  if (crash) return;
  for (const [key, json] of puts) {
    if (json === null) m.state.delete(key);
    else m.state.set(key, json);
  }
  m.checkpoint = batch[batch.length - 1]?.position ?? m.checkpoint;
}

/** A table's rows sorted by id, for comparisons. */
export const sortedRows = (m: MemoryTables, table: string): Array<[string, Record<string, unknown>]> => [...(m.tables.get(table) ?? new Map())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
