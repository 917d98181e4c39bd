import { afterEach, describe, expect, it } from 'vitest';
import { createRing } from '../../projections/shard-map/model/index.ts';
import { fleetApp, seedApi, type FleetApp } from '../testing/fleet-app.ts';

let f: FleetApp | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const vmBody = { name: 'web', vcpus: 1, memoryMiB: 1024, diskGiB: 10, image: 'debian-12' };
const after = (position: number) => ({ 'x-novacron-after': String(position) });

async function createVm(app: FleetApp, tenantId: string): Promise<{ id: string; position: number }> {
  const res = await app.app.inject({ method: 'POST', url: '/v1/vms', headers: app.tenant(tenantId), payload: vmBody });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('GET /v1/shards/lookup', () => {
  it("answers a VM's region, shard and replicas to its tenant (read-your-writes), 404 to anyone else's key", async () => {
    f = await fleetApp();
    await seedApi(f);
    const mine = await createVm(f, 'acme');
    const theirs = await createVm(f, 'globex');
    const acme = f.tenant('acme', 'tenant-user');
    const get = (url: string, headers: Record<string, string> = acme) => f!.app.inject({ method: 'GET', url, headers });

    const found = await get(`/v1/shards/lookup?key=${mine.id}&consistency=session`, { ...acme, ...after(theirs.position) });
    expect(found.statusCode, found.body).toBe(200);
    const ring = createRing({ regionId: 'eu-west', shards: 100 });
    expect(found.json()).toEqual({ key: mine.id, region: 'eu-west', ...ring.lookup(mine.id), source: 'vm' });
    expect(found.json().replicas).toHaveLength(2);

    for (const url of [
      `/v1/shards/lookup?key=${theirs.id}`,
      '/v1/shards/lookup?key=session:1',
      '/v1/shards/lookup?key=session:1&regionId=eu-west',
      `/v1/shards/lookup?key=${mine.id}&regionId=us-east`,
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('NC_NOT_FOUND');
    }
    // The same 404 for another tenant's VM as for a key that names nothing.
    expect((await get(`/v1/shards/lookup?key=${theirs.id}`)).json().error.message).toBe(`vm ${theirs.id} does not exist`);
  });

  it("lets operators hash any key on a region's ring", async () => {
    f = await fleetApp();
    await seedApi(f, { nodes: 1 });
    const vm = await createVm(f, 'acme');
    const get = (url: string) => f!.app.inject({ method: 'GET', url, headers: { ...f!.operator, ...after(vm.position) } });
    const ring = createRing({ regionId: 'eu-west', shards: 100 });

    expect((await get('/v1/shards/lookup?key=session:1&regionId=eu-west')).json()).toEqual({ key: 'session:1', region: 'eu-west', ...ring.lookup('session:1'), source: 'ring' });
    expect((await get(`/v1/shards/lookup?key=${vm.id}`)).json()).toMatchObject({ region: 'eu-west', source: 'vm' });
    expect((await get('/v1/shards/lookup?key=session:1')).statusCode).toBe(404);
    const nowhere = await get('/v1/shards/lookup?key=session:1&regionId=nowhere');
    expect(nowhere.statusCode).toBe(404);
    expect(nowhere.json().error.details).toEqual({ entity: 'region', id: 'nowhere' });
    expect((await f.app.inject({ method: 'GET', url: '/v1/shards/lookup?key=x&consistency=session', headers: f.operator })).statusCode).toBe(400);
  });
});

describe('GET /v1/regions/:id/shards', () => {
  it('shows VMs and ring share per shard, and the plan of a shard-count change with the VMs that moved', async () => {
    f = await fleetApp();
    await seedApi(f, { quotaVms: 40 });
    const vms = [];
    for (let i = 0; i < 12; i++) vms.push(await createVm(f, i % 2 === 0 ? 'acme' : 'globex'));
    const operator = f.operator;
    const get = (url: string, position: number) => f!.app.inject({ method: 'GET', url, headers: { ...operator, ...after(position) } });

    const before = (await get('/v1/regions/eu-west/shards?consistency=session', vms.at(-1)!.position)).json();
    expect(before).toMatchObject({ regionId: 'eu-west', virtualNodes: 1000, replicationFactor: 3, plans: [] });
    expect(before.shards).toHaveLength(100);
    expect(before.shards.reduce((s: number, x: { vms: number }) => s + x.vms, 0)).toBe(12);
    expect(before.shards.reduce((s: number, x: { ringFraction: number }) => s + x.ringFraction, 0)).toBeCloseTo(1, 9);

    const shardOf = async (id: string, position: number) => (await get(`/v1/shards/lookup?key=${id}`, position)).json().shard as number;
    const oldShards = new Map<string, number>();
    for (const vm of vms) oldShards.set(vm.id, await shardOf(vm.id, vm.position));

    const changed = await f.app.inject({ method: 'PATCH', url: '/v1/regions/eu-west', headers: operator, payload: { shards: 140 } });
    expect(changed.statusCode, changed.body).toBe(200);
    const position = changed.json().position as number;
    const res = await get('/v1/regions/eu-west/shards', position);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.shards).toHaveLength(140);
    const [plan] = body.plans;
    expect(plan).toMatchObject({ planId: position, fromShards: 100, toShards: 140, vms: 12 });
    expect(plan.movedFraction).toBeGreaterThan(0.2);
    expect(plan.moves.length).toBeLessThanOrEqual(20);

    const moved = [];
    for (const vm of vms) if ((await shardOf(vm.id, position)) !== oldShards.get(vm.id)) moved.push(vm.id);
    expect(plan.movedVms).toBe(moved.length);
    expect(plan.movedKeys.map((k: { key: string }) => k.key)).toEqual(moved.sort());

    const tenant = await f.app.inject({ method: 'GET', url: '/v1/regions/eu-west/shards', headers: f.tenant('acme') });
    expect(tenant.statusCode).toBe(403);
    expect((await f.app.inject({ method: 'GET', url: '/v1/regions/nowhere/shards', headers: operator })).statusCode).toBe(404);
  });
});
