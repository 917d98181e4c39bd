/** The inventory's query routes: lists, single resources, and the consistency of each read. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const vmBody = { name: 'web', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12' };

let f: FleetApp;
/** VM ids by name. */
const vms: Record<string, string> = {};
/** Position of the last setup write: session reads after it see everything. */
let last = 0;

beforeAll(async () => {
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000', NOVACRON_SESSION_WAIT_MS: '2000' });
  await seedApi(f, { nodes: 3 });
  await f.setup('POST', '/v1/regions', { id: 'us-east', name: 'Virginia', lat: 38.9, lon: -77.0, complianceZone: 'us', costPerVcpuHour: 0.018 });
  await f.setup('POST', '/v1/nodes', { id: 'use-n0', regionId: 'us-east', vcpus: 16, memoryMiB: 65_536, diskGiB: 1000 });
  await f.setup('PUT', '/v1/tenants/globex/quota', { vms: 20, vcpus: 1000, memoryMiB: 10_000_000, diskGiB: 1_000_000 });
  const create = async (name: string, tenantId: string, extra: object = {}) => {
    const vm = await f.setup('POST', '/v1/vms', { ...vmBody, name, tenantId, ...extra });
    vms[name] = vm.id as string;
    last = Math.max(last, vm.position as number);
  };
  for (let i = 0; i < 7; i++) await create(`acme-${i}`, 'acme', i % 2 === 0 ? { start: true } : {});
  await create('globex-0', 'globex');
  const deleted = await f.setup('DELETE', `/v1/vms/${vms['acme-6']}`);
  last = Math.max(last, deleted.position as number);
  const cordoned = await f.setup('POST', '/v1/nodes/euw-n2/cordon');
  last = Math.max(last, cordoned.position as number);
  // Let the saga's last commits land in the inventory too.
  expect(await f.platform.projections.waitFor('inventory', await f.platform.store.headPosition(), 5000)).toBe(true);
});
afterAll(async () => f?.close());

const get = (url: string, headers: Record<string, string>) => f.app.inject({ method: 'GET', url, headers });
const ids = (body: { items: Array<{ id: string }> }) => body.items.map((i) => i.id);

describe('GET /v1/vms', () => {
  it('a tenant lists its own VMs, deleted ones left out unless asked for', async () => {
    const acme = f.tenant('acme', 'tenant-user');
    const all = await get('/v1/vms', acme);
    expect(all.statusCode).toBe(200);
    const body = all.json();
    expect(ids(body)).toEqual([0, 1, 2, 3, 4, 5].map((i) => vms[`acme-${i}`]).sort());
    expect(body.nextCursor).toBeNull();
    expect(body.items[0]).toEqual({
      id: expect.any(String),
      tenantId: 'acme',
      name: expect.stringMatching(/^acme-/),
      state: expect.stringMatching(/^(running|stopped)$/),
      nodeId: expect.any(String),
      regionId: 'eu-west',
      vcpus: 2,
      memoryMiB: 2048,
      diskGiB: 20,
      image: 'debian-12',
      snapshots: 0,
      migration: null,
      revision: expect.any(Number),
    });
    expect(ids((await get('/v1/vms?state=deleted', acme)).json())).toEqual([vms['acme-6']]);
    expect(ids((await get('/v1/vms?state=running', acme)).json())).toEqual([0, 2, 4].map((i) => vms[`acme-${i}`]).sort());
    expect(ids((await get('/v1/vms?tenantId=acme&regionId=eu-west', acme)).json())).toHaveLength(6);
    expect(ids((await get('/v1/vms?regionId=us-east', acme)).json())).toEqual([]);
  });

  it("a tenant naming another tenant gets 404, as if it did not exist", async () => {
    const r = await get('/v1/vms?tenantId=globex', f.tenant('acme'));
    expect(r.statusCode).toBe(404);
    expect(r.json().error).toEqual({ code: 'NC_NOT_FOUND', message: 'tenant globex does not exist', details: { entity: 'tenant', id: 'globex' } });
  });

  it('an operator lists every VM, or one tenant\'s, or one node\'s', async () => {
    expect(ids((await get('/v1/vms', f.operator)).json())).toHaveLength(7);
    expect(ids((await get('/v1/vms?tenantId=globex', f.operator)).json())).toEqual([vms['globex-0']]);
    const onNode = (await get('/v1/vms?nodeId=euw-n0', f.operator)).json();
    expect(onNode.items.every((v: { nodeId: string }) => v.nodeId === 'euw-n0')).toBe(true);
  });

  it('pages with an opaque cursor', async () => {
    const acme = f.tenant('acme');
    const seen: string[] = [];
    let url = '/v1/vms?limit=4';
    for (;;) {
      const page = (await get(url, acme)).json();
      seen.push(...ids(page));
      if (page.nextCursor === null) break;
      expect(page.items).toHaveLength(4);
      url = `/v1/vms?limit=4&cursor=${page.nextCursor}`;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((i) => vms[`acme-${i}`]).sort());
  });

  it.each([
    ['a cursor it did not give out', '/v1/vms?cursor=bm9wZQ', 'cursor'],
    ['a cursor with characters outside base64url', '/v1/vms?cursor=a%2Bb', 'cursor'],
    ['limit above 500', '/v1/vms?limit=501', 'limit'],
    ['limit 0', '/v1/vms?limit=0', 'limit'],
    ['an unknown state', '/v1/vms?state=sleeping', 'state'],
    ['consistency=strong (lists have none)', '/v1/vms?consistency=strong', 'consistency'],
  ])('%s is 400 NC_VALIDATION', async (_, url, field) => {
    const r = await get(url, f.tenant('acme'));
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json().error.code).toBe('NC_VALIDATION');
    expect(r.json().error.details.field).toBe(field);
  });
});

describe('GET /v1/tenants, /v1/nodes, /v1/regions', () => {
  it('tenants: operators only, with usage against quota', async () => {
    expect((await get('/v1/tenants', f.tenant('acme'))).statusCode).toBe(403);
    const page = (await get('/v1/tenants', f.operator)).json();
    expect(ids(page)).toEqual(['acme', 'globex']);
    expect(page.items[0]).toMatchObject({ id: 'acme', status: 'active', usage: { vms: 6, vcpus: 12 }, reservations: 0, revision: expect.any(Number) });
    expect(ids((await get('/v1/tenants?status=suspended', f.operator)).json())).toEqual([]);
  });

  it('nodes: operators only, filtered by region and status', async () => {
    expect((await get('/v1/nodes', f.tenant('acme'))).statusCode).toBe(403);
    expect(ids((await get('/v1/nodes?regionId=eu-west', f.operator)).json())).toEqual(['euw-n0', 'euw-n1', 'euw-n2']);
    expect(ids((await get('/v1/nodes?status=cordoned', f.operator)).json())).toEqual(['euw-n2']);
    const page = (await get('/v1/nodes?limit=2', f.operator)).json();
    expect(ids(page)).toEqual(['euw-n0', 'euw-n1']);
    expect(ids((await get(`/v1/nodes?limit=2&cursor=${page.nextCursor}`, f.operator)).json())).toEqual(['euw-n2', 'use-n0']);
  });

  it('regions: anyone; their fleet-wide totals for operators only', async () => {
    for (const role of ['tenant-user', 'tenant-admin'] as const) {
      const seen = (await get('/v1/regions', f.tenant('globex', role))).json();
      expect(ids(seen)).toEqual(['eu-west', 'us-east']);
      for (const item of seen.items) expect(item).not.toHaveProperty('totals');
    }
    const page = (await get('/v1/regions', f.operator)).json();
    expect(ids(page)).toEqual(['eu-west', 'us-east']);
    expect(page.items[0]).toMatchObject({
      id: 'eu-west',
      status: 'active',
      totals: { nodes: 3, vms: 7, vcpus: { capacity: 96, allocatable: 96, allocated: 14 } },
    });
    expect(page.items[1].totals).toMatchObject({ nodes: 1, vms: 0 });
  });
});

describe('single resources: consistency=eventual | session | strong', () => {
  const session = { 'x-novacron-after': '' };
  beforeAll(() => {
    session['x-novacron-after'] = String(last);
  });

  it('eventual (the default), session and strong answer the same, once the inventory has caught up', async () => {
    for (const [url, headers] of [
      [`/v1/vms/${vms['acme-0']}`, f.tenant('acme')],
      [`/v1/vms/${vms['acme-6']}`, f.tenant('acme')],
      ['/v1/tenants/acme', f.tenant('acme')],
      ['/v1/tenants/globex', f.operator],
      ['/v1/nodes/euw-n0', f.operator],
      ['/v1/nodes/euw-n2', f.operator],
      ['/v1/regions/eu-west', f.tenant('acme')],
    ] as const) {
      const strong = await get(`${url}?consistency=strong`, headers);
      expect(strong.statusCode, `${url}: ${strong.body}`).toBe(200);
      const eventual = await get(url, headers);
      const sessionRead = await get(`${url}?consistency=session`, { ...headers, ...session });
      expect(eventual.json(), url).toEqual(strong.json());
      expect(sessionRead.json(), url).toEqual(strong.json());
    }
  });

  it("another tenant's VM is 404 whatever the consistency", async () => {
    for (const query of ['', '?consistency=eventual', '?consistency=session', '?consistency=strong']) {
      const r = await get(`/v1/vms/${vms['globex-0']}${query}`, { ...f.tenant('acme'), ...session });
      expect(r.statusCode, query).toBe(404);
      expect(r.json().error).toEqual({ code: 'NC_NOT_FOUND', message: `vm ${vms['globex-0']} does not exist`, details: { entity: 'vm', id: vms['globex-0'] } });
    }
    expect((await get('/v1/tenants/globex?consistency=strong', f.tenant('acme'))).statusCode).toBe(404);
  });

  it('X-NovaCron-After alone means session, and takes <streamId>@<revision>', async () => {
    const acme = f.tenant('acme');
    const vm = await f.app.inject({ method: 'POST', url: `/v1/vms/${vms['acme-1']}/start`, headers: acme });
    const { streamId, revision } = vm.json();
    const read = await get(`/v1/vms/${vms['acme-1']}`, { ...acme, 'x-novacron-after': `${streamId}@${revision}` });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ state: 'running', revision });
  });

  it('a write the inventory does not reach in time is 503 NC_PROJECTION_LAGGING with Retry-After', async () => {
    const far = String((await f.platform.store.headPosition()) + 1_000_000);
    const r = await get(`/v1/regions/eu-west?consistency=session`, { ...f.tenant('acme'), 'x-novacron-after': far });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('NC_PROJECTION_LAGGING');
    expect(r.headers['retry-after']).toBeDefined();
  }, 10_000);

  it('session without X-NovaCron-After, or a malformed one, is 400', async () => {
    const noHeader = await get('/v1/regions/eu-west?consistency=session', f.tenant('acme'));
    expect(noHeader.statusCode).toBe(400);
    expect(noHeader.json().error.details).toMatchObject({ location: 'headers', field: 'x-novacron-after' });
    const bad = await get('/v1/regions/eu-west', { ...f.tenant('acme'), 'x-novacron-after': 'yesterday' });
    expect(bad.statusCode).toBe(400);
  });

  it('a missing resource is 404 with the same body eventual or strong', async () => {
    for (const url of ['/v1/vms/nope', '/v1/tenants/nobody', '/v1/nodes/nope', '/v1/regions/nowhere']) {
      const eventual = await get(url, f.operator);
      const strong = await get(`${url}?consistency=strong`, f.operator);
      expect(eventual.statusCode, url).toBe(404);
      expect(eventual.json(), url).toEqual(strong.json());
    }
  });
});
