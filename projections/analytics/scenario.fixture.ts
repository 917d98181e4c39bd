/**
 * One small history and the rows it must give, shared by the in-memory test
 * (model.test.ts) and the ClickHouse one (analytics.int.test.ts).
 */
import { ev, type TimedEvent } from './testing.ts';

const T = (hhmm: string) => `2026-01-01T${hhmm}:00.000Z`;
const s = (hhmm: string) => Date.parse(T(hhmm)) / 1000;

/** A region, a tenant, two nodes (one without a cluster, overcommitted ×2) and one VM's life over three hours. */
export const SCENARIO: TimedEvent[] = [
  ev.regionAdded('eu-west', T('10:00')),
  ev.tenantCreated('acme', T('10:01'), 'ops@acme.example'),
  ev.nodeRegistered('n1', 'eu-west', 'c1', 16, 65_536, T('10:05')),
  ev.nodeRegistered('n2', 'eu-west', null, 8, 32_768, T('10:10'), 2),
  ev.capacityReserved('n1', 'r1', 'vm1', 4, 8192, T('10:20')),
  ev.capacityCommitted('n1', 'r1', 'vm1', T('10:20')),
  ev.vmCreated('vm1', { tenantId: 'acme', regionId: 'eu-west', clusterId: 'c1', nodeId: 'n1', vcpus: 4, memoryMiB: 8192, sshPublicKeys: ['ssh-ed25519 AAAAC3 ops'] }, T('10:20')),
  ev.vmStarted('vm1', 'acme', 'n1', T('10:30')),
  ev.vmRestarted('vm1', 'acme', 'n1', T('11:10')),
  ev.vmStopped('vm1', 'acme', 'n1', T('12:15')),
  ev.vmResized('vm1', 'acme', { vcpus: 4, memoryMiB: 8192 }, { vcpus: 8, memoryMiB: 16_384 }, T('12:20')),
  ev.vmDeleted('vm1', 'acme', 'n1', T('12:45')),
  ev.capacityReleased('n1', 'r1', 'vm1', 4, 8192, T('12:45')),
];

const interval = (o: Record<string, unknown>) => ({ tenant_id: 'acme', vm_id: 'vm1', region_id: 'eu-west', cluster_id: 'c1', node_id: 'n1', ...o });

/** vm_state_intervals, sorted by from_revision (positions as appended from 1). */
export const SCENARIO_INTERVALS = [
  interval({ from_revision: 0, from_position: 7, state: 'stopped', vcpus: 4, memory_mib: 8192, started_at: s('10:20'), ended_at: s('10:30'), ended_by: 'VmStarted', version: 8 }),
  interval({ from_revision: 1, from_position: 8, state: 'running', vcpus: 4, memory_mib: 8192, started_at: s('10:30'), ended_at: s('12:15'), ended_by: 'VmStopped', version: 10 }),
  interval({ from_revision: 3, from_position: 10, state: 'stopped', vcpus: 4, memory_mib: 8192, started_at: s('12:15'), ended_at: s('12:20'), ended_by: 'VmResized', version: 11 }),
  interval({ from_revision: 4, from_position: 11, state: 'stopped', vcpus: 8, memory_mib: 16_384, started_at: s('12:20'), ended_at: s('12:45'), ended_by: 'VmDeleted', version: 12 }),
];

const capacity = (hour: string, clusterId: string, allocated: number, version: number) =>
  clusterId === ''
    ? { hour: s(hour), region_id: 'eu-west', cluster_id: '', allocated_vcpus: allocated, allocated_memory_mib: allocated * 2048, capacity_vcpus: 32, capacity_memory_mib: 131_072, nodes: 2, version }
    : { hour: s(hour), region_id: 'eu-west', cluster_id: 'c1', allocated_vcpus: allocated, allocated_memory_mib: allocated * 2048, capacity_vcpus: 16, capacity_memory_mib: 65_536, nodes: 1, version };

/** capacity_hourly, sorted by (region, cluster, hour): every hour from the first node's to the last event's. */
export const SCENARIO_CAPACITY = [
  capacity('10:00', '', 4, 6),
  capacity('11:00', '', 4, 9),
  capacity('12:00', '', 0, 13),
  capacity('10:00', 'c1', 4, 6),
  capacity('11:00', 'c1', 4, 9),
  capacity('12:00', 'c1', 0, 13),
];

/** vm_hours: running from 10:30 to 12:15 (the restart changes nothing). */
export const SCENARIO_VM_HOURS = [
  { tenantId: 'acme', regionId: 'eu-west', hour: T('10:00'), vms: 1, vmHours: 0.5, vcpuHours: 2, memoryGibHours: 4 },
  { tenantId: 'acme', regionId: 'eu-west', hour: T('11:00'), vms: 1, vmHours: 1, vcpuHours: 4, memoryGibHours: 8 },
  { tenantId: 'acme', regionId: 'eu-west', hour: T('12:00'), vms: 1, vmHours: 0.25, vcpuHours: 1, memoryGibHours: 2 },
];
