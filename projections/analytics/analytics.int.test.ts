// The analytics projection against a real ClickHouse (NOVACRON_CLICKHOUSE_URL;
// 18.16 on our machines), fed from an embedded event store: each test in its
// own databases, dropped afterwards.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openClickHouse, type ClickHouse } from '../../streams/clickhouse/client.ts';
import { sqlIdentifier } from '../../streams/clickhouse/escape.ts';
import type { CompactionResult } from '../../streams/clickhouse/compaction.ts';
import { clickhouseInfra, dropDatabase, openOutageProxy, uniqueDatabase, waitForStateMutations } from '../../streams/clickhouse/testing.ts';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { openTempEventStore, type TempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import type { ProjectionHost } from '../../streams/processing/projection-host.ts';
import { FatalProcessorError } from '../../streams/processing/types.ts';
import { createAnalyticsHost, type AnalyticsHostOptions } from './host.ts';
import type { AnalyticsQueries } from './queries.ts';
import { SCENARIO, SCENARIO_CAPACITY, SCENARIO_INTERVALS, SCENARIO_VM_HOURS } from './scenario.fixture.ts';
import { appendAll, generateHistory } from './testing.ts';

const infra = clickhouseInfra();

describe.runIf(infra.run)('analytics projection in ClickHouse', () => {
  let temp: TempEventStore;
  let databases: string[];
  let hosts: ProjectionHost[];
  let reader: ClickHouse;
  beforeEach(() => {
    temp = openTempEventStore('analytics');
    databases = [];
    hosts = [];
    reader = openClickHouse({ url: infra.url() });
  });
  afterEach(async () => {
    for (const host of hosts) await host.stop();
    await reader.close();
    await temp.close();
    for (const database of databases) await dropDatabase(infra.url(), database);
  });

  function database(name: string): string {
    const db = uniqueDatabase(name);
    databases.push(db);
    return db;
  }

  function host(db: string, options: Partial<AnalyticsHostOptions> & { url?: string } = {}): ProjectionHost {
    const { url = infra.url(), ...rest } = options;
    const h = createAnalyticsHost({ source: temp.store, clickhouse: openClickHouse({ url, requestTimeoutMs: 5_000 }), database: db, backoff: { baseMs: 10, capMs: 100 }, minBatchIntervalMs: 0, ...rest });
    hosts.push(h);
    return h;
  }

  async function caughtUp(h: ProjectionHost): Promise<void> {
    expect(await h.waitFor('analytics', await temp.store.headPosition(), 20_000)).toBe(true);
  }

  /** Every table of `db`, one row per key (FINAL), instants as unix seconds. */
  async function dump(db: string) {
    const d = sqlIdentifier(db);
    return {
      events: await reader.query(
        `SELECT position, stream_id, revision, category, type, event_id, tenant_id, correlation_id, causation_id, actor,
           toUnixTimestamp(occurred_at) AS occurred_at, toUnixTimestamp(recorded_at) AS recorded_at, schema_version, data
         FROM ${d}.events FINAL ORDER BY position`,
      ),
      intervals: await reader.query(
        `SELECT tenant_id, vm_id, from_revision, from_position, state, region_id, cluster_id, node_id, vcpus, memory_mib,
           toUnixTimestamp(started_at) AS started_at, toUnixTimestamp(ended_at) AS ended_at, ended_by, version
         FROM ${d}.vm_state_intervals FINAL ORDER BY tenant_id, vm_id, from_revision`,
      ),
      capacity: await reader.query(
        `SELECT toUnixTimestamp(hour) AS hour, region_id, cluster_id, allocated_vcpus, allocated_memory_mib, capacity_vcpus, capacity_memory_mib, nodes, version
         FROM ${d}.capacity_hourly FINAL ORDER BY region_id, cluster_id, hour`,
      ),
    };
  }

  const numbers = (rows: Array<Record<string, unknown>>) =>
    rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v])));

  it('writes the fact rows, the VM state intervals, the hourly capacity and the VM-hours of a history', async () => {
    const head = await appendAll(temp.store, SCENARIO);
    const db = database('rows');
    const h = host(db, { batchSize: 4, minBatchIntervalMs: 200 });
    await h.start();
    await caughtUp(h);

    const tables = await dump(db);
    expect(tables.events).toHaveLength(head);
    expect(numbers(tables.intervals)).toEqual(SCENARIO_INTERVALS);
    expect(numbers(tables.capacity)).toEqual(SCENARIO_CAPACITY);
    const queries = h.queries<AnalyticsQueries>('analytics');
    expect(await queries.vmHours({ tenantId: 'acme' })).toEqual(SCENARIO_VM_HOURS);
    expect(await queries.vmHours({ tenantId: 'acme', from: Date.parse('2026-01-01T11:00:00Z') / 1000, to: Date.parse('2026-01-01T12:00:00Z') / 1000 })).toEqual([SCENARIO_VM_HOURS[1]]);
    expect(await queries.vmHours({ tenantId: 'initech' })).toEqual([]);
    // The view analysts query gives the same.
    expect(numbers(await reader.query(`SELECT tenant_id, region_id, toUnixTimestamp(hour) AS hour, vms, vm_hours FROM ${sqlIdentifier(db)}.vm_hours ORDER BY hour`))).toEqual(
      SCENARIO_VM_HOURS.map((r) => ({ tenant_id: r.tenantId, region_id: r.regionId, hour: Date.parse(r.hour) / 1000, vms: r.vms, vm_hours: r.vmHours })),
    );
    expect((await queries.intervals({ vmId: 'vm1' })).map((i) => [i.state, i.startedAt, i.endedAt])).toEqual([
      ['stopped', '2026-01-01T10:20:00.000Z', '2026-01-01T10:30:00.000Z'],
      ['running', '2026-01-01T10:30:00.000Z', '2026-01-01T12:15:00.000Z'],
      ['stopped', '2026-01-01T12:15:00.000Z', '2026-01-01T12:20:00.000Z'],
      ['stopped', '2026-01-01T12:20:00.000Z', '2026-01-01T12:45:00.000Z'],
    ]);
    expect((await queries.capacity({ regionId: 'eu-west' })).map((c) => [c.hour, c.allocatedVcpus, c.capacityVcpus])).toEqual([
      ['2026-01-01T10:00:00.000Z', 4, 32],
      ['2026-01-01T11:00:00.000Z', 4, 32],
      ['2026-01-01T12:00:00.000Z', 0, 32],
    ]);

    // Personal fields stay encrypted, as stored.
    const data = (type: string) => JSON.parse((tables.events as Array<{ type: string; data: string }>).find((e) => e.type === type)?.data ?? '{}') as Record<string, unknown>;
    expect(data('TenantCreated')['contactEmail']).toMatch(/^ncpii:/);
    expect(JSON.stringify(tables.events)).not.toContain('ops@acme.example');
    expect((data('VmCreated')['sshPublicKeys'] as string[])[0]).toMatch(/^ncpii:/);
    expect(data('VmCreated')['name']).toBe('vm vm1');

    expect(await h.status()).toEqual([expect.objectContaining({ name: 'analytics', state: 'running', checkpoint: head, lag: 0, parked: 0, error: null })]);
  });

  it('after crashes between the rows and the checkpoint, and restarts with other batch sizes, with compaction running, holds exactly what a fresh rebuild does', async () => {
    const history = generateHistory({ seed: 3, steps: 140 });
    const head = await appendAll(temp.store, history);
    const db = database('crashed');
    // Compaction every 2 commits in every process of `db`: the crashed attempts' state versions lie above the checkpoint it compacts to.
    const compactions: CompactionResult[] = [];
    const compaction = { compaction: { everyCommits: 2 }, onCompaction: (r: CompactionResult) => compactions.push(r) };

    // Two processes that crash after writing a batch's rows, before its checkpoint.
    for (const [batchSize, crashAt] of [
      [7, 4],
      [11, 3],
    ] as const) {
      let commits = 0;
      let crashed!: () => void;
      const crash = new Promise<void>((resolve) => (crashed = resolve));
      const h = host(db, {
        ...compaction,
        batchSize,
        beforeCommit: () => {
          if (++commits === crashAt) throw new FatalProcessorError('crash before the checkpoint');
        },
        onError: (_name, error) => {
          if (error instanceof FatalProcessorError) crashed();
        },
      });
      await h.start();
      await crash;
      const [status] = await h.status();
      expect(status).toMatchObject({ state: 'failed' });
      await h.stop();
      // The crashed batch's rows are there, past the checkpoint.
      const [{ checkpoint }] = (await reader.query<{ checkpoint: string }>(`SELECT max(position) AS checkpoint FROM ${db}.processor_checkpoints`)) as [{ checkpoint: string }];
      const [{ written }] = (await reader.query<{ written: string }>(`SELECT max(position) AS written FROM ${db}.events`)) as [{ written: string }];
      expect(Number(written)).toBeGreaterThan(Number(checkpoint));
      expect(Number(checkpoint)).toBeLessThan(head);
    }
    expect(compactions.filter((c) => c.compacted)).not.toHaveLength(0);
    const resumed = host(db, { ...compaction, batchSize: 5 });
    await resumed.start();
    await caughtUp(resumed);

    const fresh = database('fresh');
    const rebuilt = host(fresh, { batchSize: 1000 });
    await rebuilt.start();
    await caughtUp(rebuilt);

    const [after, expected] = [await dump(db), await dump(fresh)];
    expect(after.events).toHaveLength(head);
    expect(after.intervals.length).toBeGreaterThan(30);
    expect(after.capacity.length).toBeGreaterThan(30);
    expect(after).toEqual(expected);
    // Nothing counted twice: hours up to the start of the last event's hour (later ones grow with now() for open intervals).
    const until = Math.floor(Date.parse(history.at(-1)?.occurredAt ?? '') / 3_600_000) * 3600;
    const vmHours = (h: ProjectionHost) => h.queries<AnalyticsQueries>('analytics').vmHours({ to: until });
    expect((await vmHours(resumed)).length).toBeGreaterThan(5);
    expect(await vmHours(resumed)).toEqual(await vmHours(rebuilt));

    // The state versions stay bounded: the state as of the last compaction's floor plus a few commits' versions, where
    // without compaction every commit's versions are kept (the same history in batches of 5, compaction off).
    expect(compactions.filter((c) => c.compacted).length).toBeGreaterThan(10);
    await resumed.stop(); // waits for a compaction in flight
    hosts.splice(hosts.indexOf(resumed), 1);
    await waitForStateMutations(reader, db);
    const versions = async (d: string) =>
      (await reader.query<{ n: string; keys: string }>(`SELECT count() AS n, uniqExact(key) AS keys FROM ${sqlIdentifier(d)}.processor_state FINAL`)).map((r) => ({ n: Number(r.n), keys: Number(r.keys) }))[0];
    const kept = database('kept');
    const uncompacted = host(kept, { batchSize: 5, compaction: false });
    await uncompacted.start();
    await caughtUp(uncompacted);
    const [compacted, all] = [await versions(db), await versions(kept)];
    expect(compacted?.n).toBeLessThanOrEqual(2 * (compacted?.keys ?? 0));
    expect(all?.n).toBeGreaterThan(3 * (compacted?.n ?? 0));
  });

  it('keeps retrying while ClickHouse is unreachable, shows it in its status, and catches up when it is back', async () => {
    const proxy = await openOutageProxy(infra.url());
    try {
      const db = database('outage');
      const half = Math.ceil(SCENARIO.length / 2);
      await appendAll(temp.store, SCENARIO.slice(0, half));
      let failures = 0;
      let failed!: () => void;
      const failing = new Promise<void>((resolve) => (failed = resolve));
      const h = host(db, {
        url: proxy.url,
        batchSize: 3,
        onError: (_name, error) => {
          if (isNovaCronError(error, 'NC_CLICKHOUSE_UNAVAILABLE') && ++failures === 3) failed();
        },
      });
      await h.start();
      await caughtUp(h);

      await proxy.down();
      const head = await appendAll(temp.store, SCENARIO.slice(half));
      await failing;
      const [down] = await h.status();
      expect(down).toMatchObject({ state: 'running', head });
      expect(down?.lag).toBeGreaterThan(0);
      expect(down?.error).toMatch(/NC_CLICKHOUSE_UNAVAILABLE|ClickHouse at http:\/\/127\.0\.0\.1:\d+ failed/);

      await proxy.up();
      await caughtUp(h);
      expect(await h.status()).toEqual([expect.objectContaining({ state: 'running', checkpoint: head, lag: 0, error: null })]);
      const tables = await dump(db);
      expect(tables.events).toHaveLength(head);
      expect(numbers(tables.intervals)).toEqual(SCENARIO_INTERVALS);
      expect(numbers(tables.capacity)).toEqual(SCENARIO_CAPACITY);
    } finally {
      await proxy.close();
    }
  });

  it('starts while ClickHouse is down without blocking, and creates its tables and catches up once it answers', async () => {
    const proxy = await openOutageProxy(infra.url());
    try {
      await proxy.down();
      const head = await appendAll(temp.store, SCENARIO);
      const db = database('late');
      let failed!: () => void;
      const failing = new Promise<void>((resolve) => (failed = resolve));
      const h = host(db, { url: proxy.url, onError: () => failed() });
      await h.start(); // resolves at once: nothing waits for ClickHouse
      await failing;
      expect(await h.status()).toEqual([expect.objectContaining({ state: 'running', checkpoint: 0, lag: head, error: expect.stringMatching(/NC_CLICKHOUSE_UNAVAILABLE|ClickHouse at/) })]);
      expect(await h.waitFor('analytics', head, 0)).toBe(false);
      await proxy.up();
      await caughtUp(h);
      expect(numbers((await dump(db)).intervals)).toEqual(SCENARIO_INTERVALS);
    } finally {
      await proxy.close();
    }
  });
});
