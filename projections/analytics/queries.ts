/** Reads of the analytics tables: one row per key (FINAL), instants as ISO strings, numbers as numbers. */
import type { ClickHouse } from '../../streams/clickhouse/client.ts';
import { sqlIdentifier, sqlInteger, sqlString } from '../../streams/clickhouse/escape.ts';
import type { SeriesTrack, VmIntervalState } from './model.ts';
import { vmHoursSql, type VmHoursFilter } from './tables.ts';

/** VM-hours of a tenant or a region over a whole range. */
export interface VmHoursTotal {
  /** The tenant's or the region's id (see `groupBy`). */
  key: string;
  /** Distinct VMs that ran (running or migrating) in the range. */
  vms: number;
  vmHours: number;
  vcpuHours: number;
  memoryGibHours: number;
}

export interface VmHours {
  tenantId: string;
  regionId: string;
  /** ISO start of the hour. */
  hour: string;
  vms: number;
  vmHours: number;
  vcpuHours: number;
  memoryGibHours: number;
}

export interface VmInterval {
  tenantId: string;
  vmId: string;
  fromRevision: number;
  state: VmIntervalState;
  regionId: string;
  clusterId: string;
  nodeId: string;
  vcpus: number;
  memoryMiB: number;
  startedAt: string;
  /** null while the interval is open. */
  endedAt: string | null;
  endedBy: string;
}

/** One hour of a capacity series (clusterId '' for the whole region). */
export interface CapacityHour extends SeriesTrack {
  /** ISO start of the hour. */
  hour: string;
}

const iso = (seconds: number | string): string => new Date(Number(seconds) * 1000).toISOString();

export function createAnalyticsQueries({ clickhouse, database }: { clickhouse: ClickHouse; database: string }) {
  const db = sqlIdentifier(database);
  return {
    /** VM-hours per tenant, region and hour (running and migrating; an open interval up to now). `from`/`to` in unix seconds. */
    async vmHours(filter: VmHoursFilter = {}): Promise<VmHours[]> {
      const rows = await clickhouse.query<{ tenant_id: string; region_id: string; hour: number | string; vms: string; vm_hours: number; vcpu_hours: number; memory_gib_hours: number }>(
        `SELECT tenant_id, region_id, toUnixTimestamp(hour) AS hour, vms, vm_hours, vcpu_hours, memory_gib_hours
         FROM (${vmHoursSql(database, filter)})
         ORDER BY tenant_id, region_id, hour`,
      );
      return rows.map((r) => ({
        tenantId: r.tenant_id,
        regionId: r.region_id,
        hour: iso(r.hour),
        vms: Number(r.vms),
        vmHours: Number(r.vm_hours),
        vcpuHours: Number(r.vcpu_hours),
        memoryGibHours: Number(r.memory_gib_hours),
      }));
    },

    /** VM-hours per tenant or per region over the hours starting in [from, to) (unix seconds), by key; `tenantId` narrows to one tenant. */
    async vmHoursTotals({ groupBy, ...filter }: VmHoursFilter & { groupBy: 'tenant' | 'region' }): Promise<VmHoursTotal[]> {
      const column = groupBy === 'tenant' ? 'tenant_id' : 'region_id';
      const rows = await clickhouse.query<{ key: string; vms: string; vm_hours: number; vcpu_hours: number; memory_gib_hours: number }>(
        `SELECT ${column} AS key, vms, vm_hours, vcpu_hours, memory_gib_hours
         FROM (${vmHoursSql(database, filter, [column])})
         ORDER BY key`,
      );
      return rows.map((r) => ({ key: r.key, vms: Number(r.vms), vmHours: Number(r.vm_hours), vcpuHours: Number(r.vcpu_hours), memoryGibHours: Number(r.memory_gib_hours) }));
    },

    /** A tenant's (or one VM's) intervals, oldest first. */
    async intervals({ tenantId, vmId }: { tenantId?: string; vmId?: string }): Promise<VmInterval[]> {
      const where = ['1 = 1'];
      if (tenantId !== undefined) where.push(`tenant_id = ${sqlString(tenantId)}`);
      if (vmId !== undefined) where.push(`vm_id = ${sqlString(vmId)}`);
      const rows = await clickhouse.query<{
        tenant_id: string; vm_id: string; from_revision: string; state: VmIntervalState; region_id: string; cluster_id: string; node_id: string;
        vcpus: number; memory_mib: string; started_at: number; ended_at: number | null; ended_by: string;
      }>(
        `SELECT tenant_id, vm_id, from_revision, state, region_id, cluster_id, node_id, vcpus, memory_mib,
           toUnixTimestamp(started_at) AS started_at, toUnixTimestamp(ended_at) AS ended_at, ended_by
         FROM ${db}.vm_state_intervals FINAL
         WHERE ${where.join(' AND ')}
         ORDER BY tenant_id, vm_id, from_revision`,
      );
      return rows.map((r) => ({
        tenantId: r.tenant_id,
        vmId: r.vm_id,
        fromRevision: Number(r.from_revision),
        state: r.state,
        regionId: r.region_id,
        clusterId: r.cluster_id,
        nodeId: r.node_id,
        vcpus: Number(r.vcpus),
        memoryMiB: Number(r.memory_mib),
        startedAt: iso(r.started_at),
        endedAt: r.ended_at === null ? null : iso(r.ended_at),
        endedBy: r.ended_by,
      }));
    },

    /** A region's (clusterId '') or a cluster's hourly series; `from`/`to` in unix seconds. */
    async capacity({ regionId, clusterId = '', from, to }: { regionId: string; clusterId?: string; from?: number; to?: number }): Promise<CapacityHour[]> {
      const where = [`region_id = ${sqlString(regionId)}`, `cluster_id = ${sqlString(clusterId)}`];
      if (from !== undefined) where.push(`hour >= toDateTime(${sqlInteger(from)})`);
      if (to !== undefined) where.push(`hour < toDateTime(${sqlInteger(to)})`);
      const rows = await clickhouse.query<{
        hour: number; region_id: string; cluster_id: string; allocated_vcpus: string; allocated_memory_mib: string; capacity_vcpus: string; capacity_memory_mib: string; nodes: number;
      }>(
        `SELECT toUnixTimestamp(hour) AS hour, region_id, cluster_id, allocated_vcpus, allocated_memory_mib, capacity_vcpus, capacity_memory_mib, nodes
         FROM ${db}.capacity_hourly FINAL
         WHERE ${where.join(' AND ')}
         ORDER BY hour`,
      );
      return rows.map((r) => ({
        hour: iso(r.hour),
        regionId: r.region_id,
        clusterId: r.cluster_id,
        allocatedVcpus: Number(r.allocated_vcpus),
        allocatedMemoryMiB: Number(r.allocated_memory_mib),
        capacityVcpus: Number(r.capacity_vcpus),
        capacityMemoryMiB: Number(r.capacity_memory_mib),
        nodes: Number(r.nodes),
      }));
    },
  };
}

export type AnalyticsQueries = ReturnType<typeof createAnalyticsQueries>;
