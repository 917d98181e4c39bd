/**
 * The analytics tables in ClickHouse (database NOVACRON_CLICKHOUSE_DATABASE,
 * default `novacron`). Each is a ReplacingMergeTree whose sorting key is the
 * row's identity, so a batch applied twice (a crash between its rows and the
 * checkpoint) collapses into one row per key. Until ClickHouse merges the
 * parts, a plain SELECT may see both copies: read with FINAL, or GROUP BY the
 * key with argMax(…, version), as the `vm_hours` view and queries.ts do.
 *
 * - `events`: one row per event (the fact table), keyed by (category,
 *   stream_id, revision); `data` is the event's JSON in its current schema
 *   shape with personal fields still encrypted, exactly as they are stored
 *   (crypto-shredding keeps working: a deleted tenant's fields never decrypt).
 *   Partitioned by month of `recorded_at`.
 * - `vm_state_intervals`: one row per interval of a VM's life with constant
 *   state, place and size, keyed by (tenant_id, vm_id, from_revision);
 *   `ended_at` is NULL while it is open; `version` is the position of the
 *   event that wrote the row (the open row, then the closed one).
 * - `capacity_hourly`: allocated and in-service capacity per region
 *   (`cluster_id` '') and per cluster, for every hour from the series' first
 *   node to the latest event hour, keyed by (region_id, cluster_id, hour); the
 *   value at the end of the hour (the latest hour: so far).
 * - `vm_hours`: a view, VM-hours per tenant, region and hour, computed from
 *   `vm_state_intervals` at query time (running and migrating intervals; an
 *   open one counts up to now()). A view rather than a maintained table:
 *   an open interval grows every second, which a table would have to rewrite
 *   every hour for every running VM; the view is always exact, and the
 *   intervals it reads are a small table. It uses only what 18.16 has
 *   (arrayJoin over `range`, intDiv bucketing, FINAL).
 */
import type { ClickHouse } from '../../streams/clickhouse/client.ts';
import { sqlIdentifier, sqlInteger, sqlString } from '../../streams/clickhouse/escape.ts';
import type { ClickHouseTable } from '../../streams/clickhouse/state.ts';

export const EVENTS = {
  name: 'events',
  columns: [
    'position', 'stream_id', 'revision', 'category', 'type', 'event_id', 'tenant_id', 'correlation_id', 'causation_id',
    'actor', 'occurred_at', 'recorded_at', 'schema_version', 'data',
  ],
} as const satisfies ClickHouseTable;

export const VM_STATE_INTERVALS = {
  name: 'vm_state_intervals',
  columns: [
    'tenant_id', 'vm_id', 'from_revision', 'from_position', 'state', 'region_id', 'cluster_id', 'node_id', 'vcpus', 'memory_mib',
    'started_at', 'ended_at', 'ended_by', 'version',
  ],
} as const satisfies ClickHouseTable;

export const CAPACITY_HOURLY = {
  name: 'capacity_hourly',
  columns: ['hour', 'region_id', 'cluster_id', 'allocated_vcpus', 'allocated_memory_mib', 'capacity_vcpus', 'capacity_memory_mib', 'nodes', 'version'],
} as const satisfies ClickHouseTable;

export const VM_HOURS_VIEW = 'vm_hours';

/** Intervals that count as VM-hours: the VM is up. */
export const BILLED_STATES = ['running', 'migrating'] as const;

export async function migrateAnalytics(clickhouse: ClickHouse, database: string): Promise<void> {
  const db = sqlIdentifier(database);
  await clickhouse.command(`CREATE TABLE IF NOT EXISTS ${db}.events (
    position UInt64,
    stream_id String,
    revision UInt64,
    category String,
    type String,
    event_id String,
    tenant_id String,
    correlation_id String,
    causation_id String,
    actor String,
    occurred_at DateTime('UTC'),
    recorded_at DateTime('UTC'),
    schema_version UInt32,
    data String
  ) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(recorded_at) ORDER BY (category, stream_id, revision)`);
  await clickhouse.command(`CREATE TABLE IF NOT EXISTS ${db}.vm_state_intervals (
    tenant_id String,
    vm_id String,
    from_revision UInt64,
    from_position UInt64,
    state String,
    region_id String,
    cluster_id String,
    node_id String,
    vcpus UInt32,
    memory_mib UInt64,
    started_at DateTime('UTC'),
    ended_at Nullable(DateTime('UTC')),
    ended_by String,
    version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant_id, vm_id, from_revision)`);
  await clickhouse.command(`CREATE TABLE IF NOT EXISTS ${db}.capacity_hourly (
    hour DateTime('UTC'),
    region_id String,
    cluster_id String,
    allocated_vcpus Int64,
    allocated_memory_mib Int64,
    capacity_vcpus Int64,
    capacity_memory_mib Int64,
    nodes UInt32,
    version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY (region_id, cluster_id, hour)`);
  await clickhouse.command(`CREATE VIEW IF NOT EXISTS ${db}.${VM_HOURS_VIEW} AS ${vmHoursSql(database)}`);
}

export interface VmHoursFilter {
  tenantId?: string;
  /** Unix seconds: hours starting at or after it (rounded down to the hour). */
  from?: number;
  /** Unix seconds: hours starting before it. */
  to?: number;
}

/** Columns VM-hours can be grouped by (`hour`: the start of the hour). */
export type VmHoursKey = 'tenant_id' | 'region_id' | 'hour';

/**
 * VM-hours per tenant, region and hour (or per the `by` columns, e.g. per
 * tenant over the whole range) from the intervals: each billed
 * interval is cut at hour boundaries (arrayJoin over the hours it spans) and
 * the seconds in each hour summed. Filters on columns every version of a row
 * shares (tenant, state, start) go into the SELECT … FINAL, so a tenant's
 * query reads only its intervals (the table is sorted by tenant); the end,
 * which changes when the interval closes, is filtered after FINAL.
 */
export function vmHoursSql(database: string, { tenantId, from, to }: VmHoursFilter = {}, by: readonly VmHoursKey[] = ['tenant_id', 'region_id', 'hour']): string {
  if (by.length === 0) throw new RangeError('vmHoursSql: group by at least one column');
  const keys = by.map((key) => (key === 'hour' ? `toDateTime(h * 3600, 'UTC') AS hour` : key));
  const db = sqlIdentifier(database);
  const where = [`state IN (${BILLED_STATES.map(sqlString).join(', ')})`];
  if (tenantId !== undefined) where.push(`tenant_id = ${sqlString(tenantId)}`);
  if (to !== undefined) where.push(`started_at < toDateTime(${sqlInteger(to)})`);
  // ended_at changes between versions of a row: it is filtered after FINAL has collapsed them.
  const spans = ['e > s'];
  if (from !== undefined) spans.push(`e > ${sqlInteger(from)}`);
  const hours = [];
  if (from !== undefined) hours.push(`h >= intDiv(${sqlInteger(from)}, 3600)`);
  if (to !== undefined) hours.push(`h * 3600 < ${sqlInteger(to)}`);
  return `SELECT ${keys.join(', ')},
  uniqExact(vm_id) AS vms,
  sum(seconds) / 3600 AS vm_hours,
  sum(seconds * vcpus) / 3600 AS vcpu_hours,
  sum(seconds * memory_mib) / 1024 / 3600 AS memory_gib_hours
FROM (
  SELECT tenant_id, region_id, vm_id, vcpus, memory_mib,
    arrayJoin(arrayMap(i -> intDiv(s, 3600) + i, range(toUInt32(intDiv(e - 1, 3600) - intDiv(s, 3600) + 1)))) AS h,
    least(e, (h + 1) * 3600) - greatest(s, h * 3600) AS seconds
  FROM (
    SELECT tenant_id, region_id, vm_id, vcpus, memory_mib, toUInt32(started_at) AS s, toUInt32(ifNull(ended_at, now())) AS e
    FROM ${db}.vm_state_intervals FINAL
    WHERE ${where.join(' AND ')}
  )
  WHERE ${spans.join(' AND ')}
)${hours.length > 0 ? `\nWHERE ${hours.join(' AND ')}` : ''}
GROUP BY ${by.join(', ')}`;
}
