// GET /v1/analytics/vm-hours and /v1/analytics/capacity through the whole API
// (wired as `npm start` wires it) against a real ClickHouse
// (NOVACRON_CLICKHOUSE_URL): each test in its own database, dropped afterwards.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIO } from '../projections/analytics/scenario.fixture.ts';
import { appendAll, ev, type TimedEvent } from '../projections/analytics/testing.ts';
import { clickhouseInfra, dropDatabase, openOutageProxy, uniqueDatabase } from '../streams/clickhouse/testing.ts';
import { fleetApp, type FleetApp } from './testing/fleet-app.ts';

const infra = clickhouseInfra();
const T = (hhmm: string) => `2026-01-01T${hhmm}:00.000Z`;

/** SCENARIO (acme's vm1 runs 10:30–12:15 in eu-west, 4 vCPUs, 8 GiB) and globex's vm2 running 13:00–14:30 in us-east (2 vCPUs, 4 GiB). */
const HISTORY: TimedEvent[] = [
  ...SCENARIO,
  ev.regionAdded('us-east', T('12:50')),
  ev.tenantCreated('globex', T('12:50')),
  ev.nodeRegistered('n3', 'us-east', 'use-c1', 16, 65_536, T('12:50')),
  ev.capacityReserved('n3', 'r2', 'vm2', 2, 4096, T('12:50')),
  ev.capacityCommitted('n3', 'r2', 'vm2', T('12:50')),
  ev.vmCreated('vm2', { tenantId: 'globex', regionId: 'us-east', clusterId: 'use-c1', nodeId: 'n3', vcpus: 2, memoryMiB: 4096 }, T('12:50')),
  ev.vmStarted('vm2', 'globex', 'n3', T('13:00')),
  ev.vmStopped('vm2', 'globex', 'n3', T('14:30')),
];

const ACME = { vms: 1, vmHours: 1.75, vcpuHours: 7, memoryGibHours: 14 };
const GLOBEX = { vms: 1, vmHours: 1.5, vcpuHours: 3, memoryGibHours: 6 };
const DAY = 'from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z';

describe.runIf(infra.run)('analytics query routes on ClickHouse', () => {
  let database: string;
  let f: FleetApp | undefined;
  beforeEach(() => {
    database = uniqueDatabase('routes');
  });
  afterEach(async () => {
    await f?.close();
    f = undefined;
    await dropDatabase(infra.url(), database);
  });

  async function withHistory(url = infra.url()): Promise<FleetApp> {
    f = await fleetApp({ NOVACRON_CLICKHOUSE_URL: url, NOVACRON_CLICKHOUSE_DATABASE: database });
    const head = await appendAll(f.platform.store, HISTORY);
    expect(await f.platform.projections.waitFor('analytics', head, 20_000)).toBe(true);
    return f;
  }

  const get = async (app: FleetApp, url: string, headers: Record<string, string>) => {
    const answer = await app.app.inject({ method: 'GET', url, headers });
    return { status: answer.statusCode, body: answer.json() as Record<string, unknown>, headers: answer.headers };
  };

  it('answers VM-hours per tenant and per region, for operators and, their own only, for tenants', async () => {
    const app = await withHistory();
    expect(await get(app, `/v1/analytics/vm-hours?${DAY}`, app.operator)).toEqual({
      status: 200,
      headers: expect.any(Object),
      body: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', groupBy: 'tenant', items: [{ tenantId: 'acme', ...ACME }, { tenantId: 'globex', ...GLOBEX }] },
    });
    expect((await get(app, `/v1/analytics/vm-hours?${DAY}&groupBy=region`, app.operator)).body['items']).toEqual([
      { regionId: 'eu-west', ...ACME },
      { regionId: 'us-east', ...GLOBEX },
    ]);
    expect((await get(app, `/v1/analytics/vm-hours?${DAY}&tenantId=globex`, app.operator)).body['items']).toEqual([{ tenantId: 'globex', ...GLOBEX }]);
    // Whole hours in [from, to): 11:00 only; 13:00 to 15:00 with an offset.
    expect((await get(app, '/v1/analytics/vm-hours?from=2026-01-01T11:00:00Z&to=2026-01-01T12:00:00Z', app.operator)).body['items']).toEqual([
      { tenantId: 'acme', vms: 1, vmHours: 1, vcpuHours: 4, memoryGibHours: 8 },
    ]);
    expect((await get(app, `/v1/analytics/vm-hours?from=${encodeURIComponent('2026-01-01T15:00:00+02:00')}&to=2026-01-02`, app.operator)).body['items']).toEqual([
      { tenantId: 'globex', ...GLOBEX },
    ]);
    expect((await get(app, '/v1/analytics/vm-hours?from=2025-01-01&to=2025-06-01', app.operator)).body['items']).toEqual([]);

    // Tenants see their own tenant only, whatever they ask.
    for (const role of ['tenant-admin', 'tenant-user'] as const) {
      const acme = app.tenant('acme', role);
      expect((await get(app, `/v1/analytics/vm-hours?${DAY}`, acme)).body['items']).toEqual([{ tenantId: 'acme', ...ACME }]);
      expect((await get(app, `/v1/analytics/vm-hours?${DAY}&groupBy=region`, acme)).body['items']).toEqual([{ regionId: 'eu-west', ...ACME }]);
      expect((await get(app, `/v1/analytics/vm-hours?${DAY}&tenantId=acme`, acme)).body['items']).toEqual([{ tenantId: 'acme', ...ACME }]);
      expect(await get(app, `/v1/analytics/vm-hours?${DAY}&tenantId=globex`, acme)).toMatchObject({ status: 404, body: { error: { code: 'NC_NOT_FOUND', details: { entity: 'tenant', id: 'globex' } } } });
    }
    expect((await get(app, `/v1/analytics/vm-hours?${DAY}`, app.tenant('globex'))).body['items']).toEqual([{ tenantId: 'globex', ...GLOBEX }]);
    expect((await get(app, `/v1/analytics/vm-hours?${DAY}`, app.tenant('initech'))).body['items']).toEqual([]);
  });

  it('answers hourly allocated vs capacity of a region or a cluster, for operators only', async () => {
    const app = await withHistory();
    const region = await get(app, `/v1/analytics/capacity?regionId=eu-west&${DAY}`, app.operator);
    expect(region.status).toBe(200);
    expect(region.body).toMatchObject({ regionId: 'eu-west', clusterId: null, from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' });
    expect(region.body['items']).toEqual([
      { hour: T('10:00'), allocatedVcpus: 4, capacityVcpus: 32, allocatedMemoryMiB: 8192, capacityMemoryMiB: 131_072, nodes: 2 },
      { hour: T('11:00'), allocatedVcpus: 4, capacityVcpus: 32, allocatedMemoryMiB: 8192, capacityMemoryMiB: 131_072, nodes: 2 },
      // Every hour up to the latest event's (globex's, at 14:30).
      ...['12:00', '13:00', '14:00'].map((h) => ({ hour: T(h), allocatedVcpus: 0, capacityVcpus: 32, allocatedMemoryMiB: 0, capacityMemoryMiB: 131_072, nodes: 2 })),
    ]);
    const cluster = await get(app, '/v1/analytics/capacity?regionId=eu-west&clusterId=c1&from=2026-01-01T11:00:00Z&to=2026-01-01T12:00:00Z', app.operator);
    expect(cluster.body).toMatchObject({ clusterId: 'c1', items: [{ hour: T('11:00'), allocatedVcpus: 4, capacityVcpus: 16, nodes: 1 }] });
    expect(cluster.body['items']).toHaveLength(1);
    expect((await get(app, `/v1/analytics/capacity?regionId=us-east&${DAY}`, app.operator)).body['items']).toEqual(
      ['12:00', '13:00', '14:00'].map((h) => ({ hour: T(h), allocatedVcpus: 2, capacityVcpus: 16, allocatedMemoryMiB: 4096, capacityMemoryMiB: 65_536, nodes: 1 })),
    );
    expect((await get(app, `/v1/analytics/capacity?regionId=nowhere&${DAY}`, app.operator)).body['items']).toEqual([]);
    for (const role of ['tenant-admin', 'tenant-user'] as const) {
      expect(await get(app, `/v1/analytics/capacity?regionId=eu-west&${DAY}`, app.tenant('acme', role))).toMatchObject({ status: 403, body: { error: { code: 'NC_FORBIDDEN' } } });
    }
  });

  it('refuses bad input with 400 NC_VALIDATION naming the field', async () => {
    const app = await withHistory();
    const cases: Array<[string, string]> = [
      ['/v1/analytics/vm-hours?to=2026-01-02T00:00:00Z', 'from'],
      ['/v1/analytics/vm-hours?from=2026-01-01T00:00:00Z', 'to'],
      ['/v1/analytics/vm-hours?from=yesterday&to=2026-01-02T00:00:00Z', 'from'],
      ['/v1/analytics/vm-hours?from=1767225600&to=2026-01-02T00:00:00Z', 'from'],
      ['/v1/analytics/vm-hours?from=2026-02-30T00:00:00Z&to=2026-03-02T00:00:00Z', 'from'],
      ['/v1/analytics/vm-hours?from=2026-01-01T24:00:00Z&to=2026-01-03T00:00:00Z', 'from'],
      ['/v1/analytics/vm-hours?from=2026-01-01T00:00:00&to=2026-01-02T00:00:00Z', 'from'],
      ['/v1/analytics/vm-hours?from=2026-01-01T10:30:00Z&to=2026-01-02T00:00:00Z', 'from'],
      ['/v1/analytics/vm-hours?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00.001Z', 'to'],
      ['/v1/analytics/vm-hours?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['/v1/analytics/vm-hours?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['/v1/analytics/vm-hours?from=2025-01-01T00:00:00Z&to=2026-01-03T00:00:00Z', 'to'],
      ['/v1/analytics/vm-hours?from=1969-12-31T00:00:00Z&to=1970-01-02T00:00:00Z', 'from'],
      [`/v1/analytics/vm-hours?${DAY}&groupBy=day`, 'groupBy'],
      [`/v1/analytics/vm-hours?${DAY}&tenantId=${encodeURIComponent("acme' OR 1=1")}`, 'tenantId'],
      [`/v1/analytics/vm-hours?${DAY}&limit=5`, 'limit'],
      [`/v1/analytics/capacity?${DAY}`, 'regionId'],
      [`/v1/analytics/capacity?regionId=eu-west&${DAY}&clusterId=${encodeURIComponent("c1'")}`, 'clusterId'],
      ['/v1/analytics/capacity?regionId=eu-west&from=2026-01-01T00:00:00Z&to=2027-01-02T01:00:00Z', 'to'],
      ['/v1/analytics/capacity?regionId=eu-west&from=2026-01-01T00:00:00Z&to=soon', 'to'],
    ];
    const answers = await Promise.all(
      cases.map(async ([url]) => {
        const { status, body } = await get(app, url, app.operator);
        const error = body['error'] as { code: string; message: string; details: { field: string } };
        return [url, status, error.code, error.details.field] as const;
      }),
    );
    expect(answers).toEqual(cases.map(([url, field]) => [url, 400, 'NC_VALIDATION', field]));
    // 366 days is allowed (a leap year).
    expect((await get(app, '/v1/analytics/vm-hours?from=2028-01-01&to=2029-01-01', app.operator)).status).toBe(200);
    const { body } = await get(app, '/v1/analytics/vm-hours?from=2026-01-01T10:30:00Z&to=2026-01-02T00:00:00Z', app.operator);
    expect((body['error'] as { message: string }).message).toMatch(/from must be the start of an hour/);
  });

  it('answers 503 NC_CLICKHOUSE_UNAVAILABLE with Retry-After while ClickHouse does not answer', async () => {
    const proxy = await openOutageProxy(infra.url());
    try {
      const app = await withHistory(proxy.url);
      await proxy.down();
      for (const url of [`/v1/analytics/vm-hours?${DAY}`, `/v1/analytics/capacity?regionId=eu-west&${DAY}`]) {
        const answer = await get(app, url, app.operator);
        expect(answer).toMatchObject({ status: 503, body: { error: { code: 'NC_CLICKHOUSE_UNAVAILABLE' } } });
        expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      }
      await proxy.up();
      expect((await get(app, `/v1/analytics/vm-hours?${DAY}`, app.operator)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });
});
