// The analytics projection wired as `npm start` and as `novacron start --role
// processor --processors analytics` wire it, against a real ClickHouse
// (NOVACRON_CLICKHOUSE_URL): each test in its own database, dropped afterwards.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsQueries } from '../projections/analytics/index.ts';
import { openClickHouse } from '../streams/clickhouse/client.ts';
import { clickhouseInfra, dropDatabase, uniqueDatabase } from '../streams/clickhouse/testing.ts';
import { startAnalyticsProcessor, type RunningAnalytics } from './analytics-role.ts';
import { loadConfig } from './config.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const infra = clickhouseInfra();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe.runIf(infra.run)('analytics wired into NovaCron', () => {
  let database: string;
  let f: FleetApp | undefined;
  let role: RunningAnalytics | undefined;
  beforeEach(() => {
    database = uniqueDatabase('api');
  });
  afterEach(async () => {
    await role?.close();
    await f?.close();
    role = undefined;
    f = undefined;
    await dropDatabase(infra.url(), database);
  });

  /** A VM of acme created, started and stopped (the fleet seeded first). */
  async function vmLife(app: FleetApp): Promise<string> {
    const acme = app.tenant('acme');
    const created = await app.app.inject({ method: 'POST', url: '/v1/vms', headers: acme, payload: { name: 'web-1', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12', start: true, sshPublicKeys: ['ssh-ed25519 AAAAC3Nza secret-key'] } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect((await app.app.inject({ method: 'POST', url: `/v1/vms/${id}/stop`, headers: acme })).statusCode).toBe(200);
    return id;
  }

  it('npm start with NOVACRON_CLICKHOUSE_URL: every event reaches ClickHouse, personal data encrypted, status beside the other projections', async () => {
    f = await fleetApp({ NOVACRON_CLICKHOUSE_URL: infra.url(), NOVACRON_CLICKHOUSE_DATABASE: database });
    await seedApi(f, { nodes: 1 });
    const vmId = await vmLife(f);
    const head = await f.platform.store.headPosition();
    expect(await f.platform.projections.waitFor('analytics', head, 20_000)).toBe(true);

    const queries = f.platform.projections.queries<AnalyticsQueries>('analytics');
    expect((await queries.intervals({ vmId })).map((i) => [i.tenantId, i.state, i.regionId, i.clusterId, i.vcpus, i.endedBy])).toEqual([
      ['acme', 'stopped', 'eu-west', 'euw-c1', 2, 'VmStarted'],
      ['acme', 'running', 'eu-west', 'euw-c1', 2, 'VmStopped'],
      ['acme', 'stopped', 'eu-west', 'euw-c1', 2, ''],
    ]);
    expect((await queries.capacity({ regionId: 'eu-west' })).at(-1)).toMatchObject({ allocatedVcpus: 2, capacityVcpus: 32, nodes: 1 });
    const reader = openClickHouse({ url: infra.url() });
    try {
      const [{ n }] = (await reader.query<{ n: string }>(`SELECT count() AS n FROM ${database}.events FINAL`)) as [{ n: string }];
      expect(Number(n)).toBe(head);
      const dump = JSON.stringify(await reader.query(`SELECT data FROM ${database}.events WHERE type IN ('TenantCreated', 'VmCreated')`));
      expect(dump).not.toContain('ops@acme.example');
      expect(dump).not.toContain('secret-key');
      expect(dump).toContain('ncpii:');
    } finally {
      await reader.close();
    }
    const { processors } = (await f.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.operator })).json() as { processors: Array<Record<string, unknown>> };
    expect(processors.find((p) => p['name'] === 'analytics')).toMatchObject({ state: 'running', checkpoint: head, head, lag: 0, parked: 0, error: null });
  });

  it('--role processor --processors analytics: reads the API’s event store and follows it live', async () => {
    f = await fleetApp();
    await seedApi(f, { nodes: 1 });
    role = await startAnalyticsProcessor(loadConfig({ NOVACRON_DATA_DIR: f.dataDir, NOVACRON_CLICKHOUSE_URL: infra.url(), NOVACRON_CLICKHOUSE_DATABASE: database, NOVACRON_PORT: '0' }), { log: silent });
    const first = await f.platform.store.headPosition();
    expect(await role.host.waitFor('analytics', first, 20_000)).toBe(true);
    const health = await fetch(`${role.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', processors: [{ name: 'analytics', state: 'running', lag: 0, error: null }] });

    const vmId = await vmLife(f);
    const head = await f.platform.store.headPosition();
    expect(await role.host.waitFor('analytics', head, 20_000)).toBe(true);
    expect(await role.host.queries<AnalyticsQueries>('analytics').intervals({ vmId })).toHaveLength(3);
    const metrics = await (await fetch(`${role.url}/metrics`)).text();
    expect(metrics).toMatch(/novacron_processor_lag\{processor="analytics"\} 0/);
    expect(metrics).toMatch(/novacron_processor_up\{processor="analytics"\} 1/);
  });
});
