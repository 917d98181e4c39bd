import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from './config.ts';
import { configRejection } from './testing/config-rejection.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

describe('loadConfig: ClickHouse settings', () => {
  it('reads the URL and the database; without a URL there is no analytics projection', () => {
    expect(loadConfig({}).clickhouse).toEqual({ url: undefined, database: 'novacron' });
    expect(loadConfig({ NOVACRON_CLICKHOUSE_URL: 'http://127.0.0.1:8123/', NOVACRON_CLICKHOUSE_DATABASE: 'analytics_2' }).clickhouse).toEqual({ url: 'http://127.0.0.1:8123', database: 'analytics_2' });
    expect(loadConfig({ NOVACRON_CLICKHOUSE_URL: 'https://reader:s3cret@ch.internal:8443' }).clickhouse.url).toBe('https://reader:s3cret@ch.internal:8443');
  });

  it.each([
    ['NOVACRON_CLICKHOUSE_URL', 'clickhouse:8123'],
    ['NOVACRON_CLICKHOUSE_URL', 'tcp://127.0.0.1:9000'],
    ['NOVACRON_CLICKHOUSE_URL', 'http://127.0.0.1:8123/novacron'],
    ['NOVACRON_CLICKHOUSE_URL', 'http://user:pw@127.0.0.1:8123/?database=x'],
    ['NOVACRON_CLICKHOUSE_DATABASE', 'my-db'],
    ['NOVACRON_CLICKHOUSE_DATABASE', '1st'],
    ['NOVACRON_CLICKHOUSE_DATABASE', 'x'.repeat(65)],
  ])('rejects %s=%s with NC_CONFIG_INVALID naming the variable, never echoing a URL', (name, value) => {
    const error = configRejection(() => loadConfig({ [name]: value }));
    expect(error.details).toEqual({ variable: name });
    expect(error.message.startsWith(name)).toBe(true);
    if (name === 'NOVACRON_CLICKHOUSE_URL') expect(error.message).not.toContain(value);
  });
});

describe('ClickHouse unreachable', () => {
  let f: FleetApp | undefined;
  afterEach(async () => f?.close());

  it('leaves the API working; the analytics processor keeps retrying and its status says why', async () => {
    f = await fleetApp({ NOVACRON_CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    await seedApi(f, { nodes: 1 });
    const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: f.tenant('acme'), payload: { name: 'web-1', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12', start: true } });
    expect(created.statusCode).toBe(201);
    const head = await f.platform.store.headPosition();
    expect(await f.platform.projections.waitFor('inventory', head, 5_000)).toBe(true);
    expect((await f.app.inject({ method: 'GET', url: `/v1/vms/${created.json().id}`, headers: f.tenant('acme') })).statusCode).toBe(200);
    expect((await f.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    await vi.waitFor(
      async () => {
        const { processors } = (await f?.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.operator }))?.json() as { processors: Array<Record<string, unknown>> };
        expect(processors.find((p) => p['name'] === 'analytics')).toMatchObject({ state: 'running', checkpoint: 0, head, lag: head, error: expect.stringMatching(/NC_CLICKHOUSE_UNAVAILABLE|ClickHouse at http:\/\/127\.0\.0\.1:1 failed/) });
        expect(processors.find((p) => p['name'] === 'inventory')).toMatchObject({ state: 'running', lag: 0, error: null });
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(await f.platform.projections.waitFor('analytics', head, 0)).toBe(false);
    const closing = performance.now();
    await f.close();
    f = undefined;
    expect(performance.now() - closing).toBeLessThan(5_000);
  });
});

describe('novacron start --role api with NOVACRON_CLICKHOUSE_URL', () => {
  let f: FleetApp | undefined;
  afterEach(async () => f?.close());

  it('serves the analytics routes but runs no processor: idle in the status, ClickHouse failures a 503', async () => {
    f = await fleetApp({ NOVACRON_CLICKHOUSE_URL: 'http://127.0.0.1:1' }, { role: 'api' });
    await seedApi(f, { nodes: 1 });
    const head = await f.platform.store.headPosition();
    expect(f.platform.projections.names).toContain('analytics');
    const { processors } = (await f.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.operator })).json() as { processors: Array<Record<string, unknown>> };
    expect(processors.find((p) => p['name'] === 'analytics')).toMatchObject({ state: 'idle', checkpoint: 0, head, lag: head, processed: 0, error: expect.stringMatching(/NC_CLICKHOUSE_UNAVAILABLE|ClickHouse at http:\/\/127\.0\.0\.1:1 failed/) });
    // The embedded projections still run here.
    expect(await f.platform.projections.waitFor('inventory', head, 5_000)).toBe(true);
    const answer = await f.app.inject({ method: 'GET', url: '/v1/analytics/vm-hours?from=2026-01-01&to=2026-01-02', headers: f.operator });
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toMatchObject({ error: { code: 'NC_CLICKHOUSE_UNAVAILABLE' } });
  });

  it('npm start runs it (running, not idle)', async () => {
    f = await fleetApp({ NOVACRON_CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    const { processors } = (await f.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.operator })).json() as { processors: Array<Record<string, unknown>> };
    expect(processors.find((p) => p['name'] === 'analytics')).toMatchObject({ state: 'running' });
  });
});

describe('novacron start --role processor --processors analytics', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const novacron = (args: string[]) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'novacron-analytics-role-'));
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NOVACRON_')));
      return spawnSync(process.execPath, [join(root, 'bin', 'novacron.mjs'), ...args], { cwd: root, env: { ...env, NOVACRON_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 20_000 });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it('needs NOVACRON_CLICKHOUSE_URL, and says so', () => {
    const run = novacron(['start', '--role', 'processor', '--processors', 'analytics']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/NC_CONFIG_INVALID: the analytics projection writes to ClickHouse: set NOVACRON_CLICKHOUSE_URL/);
  });

  it('runs alone: with Kafka-fed processors it is a usage error', () => {
    const run = novacron(['start', '--role', 'processor', '--processors', 'analytics,shard-map']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--processors analytics reads the event store, the others Kafka: run it alone/);
  });
});
