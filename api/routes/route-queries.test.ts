import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTING_STRATEGIES } from '../../projections/routing/model/index.ts';
import { loadConfig } from '../config.ts';
import { openPlatform } from '../platform.ts';
import { fleetApp, type FleetApp } from '../testing/fleet-app.ts';
import { wireApi } from '../wiring.ts';

let f: FleetApp | undefined;
let scratch: string | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

const paris = 'lat=48.8566&lon=2.3522';

/** Dublin (two clusters), Frankfurt and Virginia, one node each; acme may use the two in Europe, globex only Dublin. Returns the last position. */
async function world(app: FleetApp): Promise<number> {
  const regions = [
    { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, costPerVcpuHour: 0.048 },
    { id: 'eu-central', name: 'Frankfurt', lat: 50.11, lon: 8.68, costPerVcpuHour: 0.055 },
    { id: 'us-east', name: 'Virginia', lat: 38.95, lon: -77.45, costPerVcpuHour: 0.04 },
  ];
  for (const r of regions) {
    await app.setup('POST', '/v1/regions', { ...r, complianceZone: r.id.startsWith('eu') ? 'eu' : 'us' });
    await app.setup('POST', '/v1/clusters', { id: `${r.id}-c1`, regionId: r.id });
    await app.setup('POST', '/v1/nodes', { id: `${r.id}-n1`, regionId: r.id, clusterId: `${r.id}-c1`, vcpus: 64, memoryMiB: 262_144, diskGiB: 10_000 });
  }
  await app.setup('POST', '/v1/clusters', { id: 'eu-west-c2', regionId: 'eu-west' });
  const quota = { vms: 10, vcpus: 100, memoryMiB: 1_000_000, diskGiB: 10_000 };
  await app.setup('POST', '/v1/tenants', { id: 'acme', name: 'acme', contactEmail: 'ops@acme.example', quota, allowedRegions: ['eu-west', 'eu-central'] });
  const last = await app.setup('POST', '/v1/tenants', { id: 'globex', name: 'globex', contactEmail: 'ops@globex.example', quota, allowedRegions: ['eu-west'] });
  return last.position as number;
}

const routes = (app: FleetApp, query: string, position: number, headers = app.tenant('acme', 'tenant-user')) =>
  app.app.inject({ method: 'GET', url: `/v1/routes?${paris}&${query}&consistency=session`, headers: { ...headers, 'x-novacron-after': String(position) } });
const regionIds = (body: { routes: Array<{ regionId: string }> }) => body.routes.map((r) => r.regionId);

describe('GET /v1/routes', () => {
  it("routes a tenant's client to its allowed regions, nearest first, with weights, and says why the others are out", async () => {
    f = await fleetApp();
    const position = await world(f);
    const res = await routes(f, 'strategy=geo-proximity', position);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ tenantId: 'acme', strategy: 'geo-proximity', excluded: [{ regionId: 'us-east', reason: 'not-allowed' }] });
    expect(regionIds(body)).toEqual(['eu-central', 'eu-west']);
    expect(body.routes[0]).toEqual({ regionId: 'eu-central', weight: expect.any(Number), score: expect.any(Number), distanceKm: expect.any(Number), estLatencyMs: expect.any(Number) });
    expect(body.routes[0].weight).toBeGreaterThan(body.routes[1].weight);
    // hybrid is the default strategy; a location is required.
    expect((await f.app.inject({ method: 'GET', url: `/v1/routes?${paris}`, headers: f.tenant('acme') })).json().strategy).toBe('hybrid');
    const noLocation = await f.app.inject({ method: 'GET', url: '/v1/routes?lat=48.85', headers: f.tenant('acme') });
    expect(noLocation.statusCode).toBe(400);
    expect((await f.app.inject({ method: 'GET', url: `/v1/routes?lat=91&lon=0`, headers: f.tenant('acme') })).statusCode).toBe(400);
  });

  it("takes a region out of every route on the health report that leaves it without a healthy cluster (session consistency)", async () => {
    f = await fleetApp();
    await world(f);
    const first = await f.setup('POST', '/v1/clusters/eu-west-c1/health', { healthy: false, detail: 'rack down' });
    for (const strategy of ROUTING_STRATEGIES) {
      const body = (await routes(f, `strategy=${strategy}`, first.position as number)).json();
      expect(regionIds(body).sort(), strategy).toEqual(['eu-central', 'eu-west']); // eu-west-c2 is still healthy
    }
    const last = await f.setup('POST', '/v1/clusters/eu-west-c2/health', { healthy: false });
    for (const strategy of ROUTING_STRATEGIES) {
      const acme = (await routes(f, `strategy=${strategy}`, last.position as number)).json();
      expect(regionIds(acme), strategy).toEqual(['eu-central']);
      expect(acme.routes[0].weight).toBe(1);
      expect(acme.excluded).toContainEqual({ regionId: 'eu-west', reason: 'no-healthy-cluster' });
      const globex = (await routes(f, `strategy=${strategy}`, last.position as number, f.tenant('globex'))).json();
      expect(globex.routes).toEqual([]);
    }
    const healed = await f.setup('POST', '/v1/clusters/eu-west-c2/health', { healthy: true });
    expect(regionIds((await routes(f, 'strategy=geo-proximity', healed.position as number)).json())).toEqual(['eu-central', 'eu-west']);
  });

  it('takes the tenant from the token; operators name it', async () => {
    f = await fleetApp();
    const position = await world(f);
    const operator = await routes(f, 'tenantId=globex&strategy=cost', position, f.operator);
    expect(operator.statusCode).toBe(200);
    expect(operator.json()).toMatchObject({ tenantId: 'globex', routes: [{ regionId: 'eu-west', weight: 1 }] });
    const noTenant = await routes(f, 'strategy=cost', position, f.operator);
    expect(noTenant.statusCode).toBe(400);
    expect(noTenant.json().error.details).toMatchObject({ field: 'tenantId' });
    expect((await routes(f, 'tenantId=globex', position)).statusCode).toBe(404);
    expect((await routes(f, 'tenantId=acme', position)).statusCode).toBe(200);
    expect((await routes(f, 'tenantId=nobody', position, f.operator)).json().error).toMatchObject({ code: 'NC_NOT_FOUND', details: { entity: 'tenant', id: 'nobody' } });
  });

  it('uses the latency matrix, weights and least headroom of its settings', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'novacron-latency-'));
    const matrix = join(scratch, 'latency.json');
    writeFileSync(matrix, JSON.stringify({ 'eu-west': { 'cell-paris': 7 }, 'eu-central': { 'cell-paris': 41 } }));
    f = await fleetApp({ NOVACRON_ROUTING_LATENCY_MATRIX: matrix, NOVACRON_ROUTING_WEIGHTS: 'cost=1', NOVACRON_ROUTING_MIN_HEADROOM: '0.5' });
    const position = await world(f);
    const latency = (await routes(f, 'strategy=latency&cellId=cell-paris', position)).json();
    expect(latency.routes.map((r: { regionId: string; estLatencyMs: number }) => [r.regionId, r.estLatencyMs])).toEqual([['eu-west', 7], ['eu-central', 41]]);
    // cost alone: Dublin is cheaper than Frankfurt.
    expect(regionIds((await routes(f, 'strategy=hybrid', position)).json())).toEqual(['eu-west', 'eu-central']);
    // Half of Frankfurt's vCPUs taken: under the 50% headroom.
    const vm = await f.app.inject({
      method: 'POST',
      url: '/v1/vms',
      headers: f.tenant('acme'),
      payload: { name: 'big', vcpus: 40, memoryMiB: 4096, diskGiB: 10, image: 'debian-12', regionId: 'eu-central' },
    });
    expect(vm.statusCode, vm.body).toBe(201);
    const full = (await routes(f, 'strategy=hybrid', vm.json().position)).json();
    expect(full.excluded).toContainEqual({ regionId: 'eu-central', reason: 'no-headroom' });
  });

  it('refuses to start with an unreadable latency matrix, naming the variable', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'novacron-latency-'));
    const platform = openPlatform(loadConfig({ NOVACRON_DATA_DIR: scratch, NOVACRON_ROUTING_LATENCY_MATRIX: join(scratch, 'missing.json') }));
    try {
      expect(() => wireApi(platform)).toThrow(/^NOVACRON_ROUTING_LATENCY_MATRIX names .*missing\.json, which cannot be read \(ENOENT\)/);
    } finally {
      await platform.close();
    }
  });
});
