// `novacron start --role api` with NOVACRON_CLICKHOUSE_URL against a real
// ClickHouse: the API serves the analytics routes from what the one process
// running the processor writes, and writes nothing itself, so any number of
// API instances share a database. Each test in its own database, dropped
// afterwards.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAnalyticsHost } from '../projections/analytics/index.ts';
import { SCENARIO } from '../projections/analytics/scenario.fixture.ts';
import { appendAll, ev } from '../projections/analytics/testing.ts';
import { openClickHouse, type ClickHouse } from '../streams/clickhouse/client.ts';
import type { CompactionResult } from '../streams/clickhouse/compaction.ts';
import { clickhouseInfra, dropDatabase, uniqueDatabase } from '../streams/clickhouse/testing.ts';
import type { ProjectionHost } from '../streams/processing/projection-host.ts';
import { startAnalyticsProcessor, type RunningAnalytics } from './analytics-role.ts';
import { loadConfig } from './config.ts';
import { fleetApp, type FleetApp } from './testing/fleet-app.ts';

const infra = clickhouseInfra();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
/** acme's vm1 in SCENARIO: running 10:30–12:15 with 4 vCPUs and 8 GiB. */
const ACME = { tenantId: 'acme', vms: 1, vmHours: 1.75, vcpuHours: 7, memoryGibHours: 14 };
const DAY = '/v1/analytics/vm-hours?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z';

describe.runIf(infra.run)('novacron start --role api: analytics read from ClickHouse, never written', () => {
  let database: string;
  let apps: FleetApp[] = [];
  let role: RunningAnalytics | undefined;
  let writer: ProjectionHost | undefined;
  let reader: ClickHouse;
  beforeEach(() => {
    database = uniqueDatabase('api_read');
    reader = openClickHouse({ url: infra.url() });
  });
  afterEach(async () => {
    await role?.close();
    await writer?.stop();
    for (const app of apps) await app.close();
    role = undefined;
    writer = undefined;
    apps = [];
    await reader.close();
    await dropDatabase(infra.url(), database);
  });

  const apiApp = async () => {
    const app = await fleetApp({ NOVACRON_CLICKHOUSE_URL: infra.url(), NOVACRON_CLICKHOUSE_DATABASE: database }, { role: 'api' });
    apps.push(app);
    return app;
  };
  const analyticsStatus = async (app: FleetApp) => {
    const { processors } = (await app.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: app.operator })).json() as { processors: Array<Record<string, unknown>> };
    return processors.find((p) => p['name'] === 'analytics');
  };
  const count = async (sql: string) => Number((await reader.query<{ n: string }>(sql))[0]?.n);

  it('answers from what --role processor --processors analytics writes; its own checkpoint never moves, it writes nothing', async () => {
    const api = await apiApp();
    const head = await appendAll(api.platform.store, SCENARIO);

    // Before any processor: the API created nothing in ClickHouse (not even the database), and says so.
    // Its status is read from ClickHouse, so once it answers, the read-only host has been there.
    expect(await analyticsStatus(api)).toMatchObject({ state: 'idle', checkpoint: 0, head, lag: head, processed: 0 });
    expect(await count(`SELECT count() AS n FROM system.databases WHERE name = '${database}'`)).toBe(0);
    expect((await api.app.inject({ method: 'GET', url: DAY, headers: api.operator })).json()).toMatchObject({ error: { code: 'NC_CLICKHOUSE_UNAVAILABLE' } });
    expect(await api.platform.projections.waitFor('analytics', head, 300)).toBe(false);

    // The one writer: the processor role, reading the API's event store.
    role = await startAnalyticsProcessor(loadConfig({ NOVACRON_DATA_DIR: api.dataDir, NOVACRON_CLICKHOUSE_URL: infra.url(), NOVACRON_CLICKHOUSE_DATABASE: database, NOVACRON_PORT: '0' }), { log: silent });
    expect(await api.platform.projections.waitFor('analytics', head, 20_000)).toBe(true);
    expect((await api.app.inject({ method: 'GET', url: DAY, headers: api.operator })).json()).toMatchObject({ items: [ACME] });
    expect((await api.app.inject({ method: 'GET', url: DAY, headers: api.tenant('acme', 'tenant-user') })).json()).toMatchObject({ items: [ACME] });
    expect(await analyticsStatus(api)).toMatchObject({ state: 'idle', checkpoint: head, head, lag: 0, parked: 0, processed: 0, error: null });

    // The writer stops: the API's checkpoint stays where the writer left it, and nothing more reaches ClickHouse.
    await role.close();
    role = undefined;
    const later = await appendAll(api.platform.store, [ev.regionAdded('us-east', '2026-01-01T13:00:00Z'), ev.tenantCreated('globex', '2026-01-01T13:00:00Z')]);
    expect(await api.platform.projections.waitFor('analytics', later, 1_000)).toBe(false);
    expect(await analyticsStatus(api)).toMatchObject({ state: 'idle', checkpoint: head, head: later, lag: later - head, processed: 0, error: null });
    expect(api.platform.projections.checkpoint('analytics')).toBe(head);
    expect(await count(`SELECT max(position) AS n FROM ${database}.processor_checkpoints WHERE processor = 'analytics'`)).toBe(head);
    expect(await count(`SELECT count() AS n FROM ${database}.events FINAL`)).toBe(head);
    expect(await count(`SELECT count() AS n FROM ${database}.processor_compactions`)).toBe(0);
    expect(await count(`SELECT count() AS n FROM system.mutations WHERE database = '${database}'`)).toBe(0);
    // Its answers are as fresh as the writer left them.
    expect((await api.app.inject({ method: 'GET', url: DAY, headers: api.operator })).json()).toMatchObject({ items: [ACME] });
  });

  it('two --role api instances on one database both serve the routes while the one writer compacts its state', async () => {
    const [a, b] = [await apiApp(), await apiApp()] as [FleetApp, FleetApp];
    const compactions: CompactionResult[] = [];
    const committed = new Set<number>();
    // The writer compacts after every commit: a second processor behind it would stop with FatalProcessorError.
    writer = createAnalyticsHost({ source: a.platform.store, clickhouse: openClickHouse({ url: infra.url() }), database, minBatchIntervalMs: 0, compaction: { everyCommits: 1 }, onCompaction: (r) => compactions.push(r), onCommit: (_name, checkpoint) => committed.add(checkpoint) });
    await writer.start();
    let head = 0;
    for (const chunk of [SCENARIO.slice(0, 4), SCENARIO.slice(4, 8), SCENARIO.slice(8)]) {
      head = await appendAll(a.platform.store, chunk);
      await appendAll(b.platform.store, chunk); // b's own log, the same positions: its status shows the same head
      expect(await writer.waitFor('analytics', head, 20_000)).toBe(true);
    }
    await vi.waitFor(() => expect(compactions.some((r) => r.compacted && r.floor > 0)).toBe(true), { timeout: 10_000, interval: 50 });

    for (const app of [a, b]) {
      expect(await app.platform.projections.waitFor('analytics', head, 5_000)).toBe(true);
      const answer = await app.app.inject({ method: 'GET', url: DAY, headers: app.operator });
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ items: [ACME] });
      expect(await analyticsStatus(app)).toMatchObject({ state: 'idle', checkpoint: head, head, lag: 0, error: null });
    }
    // Every checkpoint in ClickHouse is one the writer committed: the readers wrote none.
    const positions = await reader.query<{ position: string }>(`SELECT DISTINCT position FROM ${database}.processor_checkpoints`);
    expect(positions.map((r) => Number(r.position)).filter((p) => !committed.has(p))).toEqual([]);
    expect((await writer.status())[0]).toMatchObject({ state: 'running', checkpoint: head, error: null });
  });
});
