/**
 * NOVACRON_REDIS_URL set, Redis not there (down at start, or gone at run
 * time): the API still starts and answers every query from the projection
 * (never a 500), counting the cache's errors; session reads still see their
 * writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const vmBody = { name: 'web', vcpus: 1, memoryMiB: 512, diskGiB: 1, image: 'debian-12' };

let f: FleetApp;
beforeAll(async () => {
  // Port 1: connection refused at once. A 20 ms timeout keeps the start's wait for the subscription short.
  f = await fleetApp({ NOVACRON_REDIS_URL: 'redis://127.0.0.1:1', NOVACRON_REDIS_TIMEOUT_MS: '20', NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
  await seedApi(f, { nodes: 1 });
});
afterAll(async () => f?.close());

async function metric(name: string, labels = ''): Promise<number> {
  const text = (await f.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the query cache with Redis down', () => {
  it('answers queries from the projection, counting the errors, and session reads see their writes', async () => {
    const admin = f.tenant('acme');
    expect(f.platform.redis).not.toBeNull();
    expect(f.platform.invalidations.live).toBe(false);
    let state = 'stopped';
    const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: admin, payload: vmBody });
    expect(created.statusCode, created.body).toBe(201);
    const { id, position } = created.json();
    for (const headers of [{ 'x-novacron-after': String(position) }, {}]) {
      const read = await f.app.inject({ method: 'GET', url: `/v1/vms/${id}`, headers: { ...admin, ...headers } });
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json().state).toBe(state);
    }
    for (let i = 0; i < 3; i++) {
      const action = state === 'stopped' ? 'start' : 'stop';
      const written = await f.app.inject({ method: 'POST', url: `/v1/vms/${id}/${action}`, headers: admin });
      expect(written.statusCode, written.body).toBe(200);
      state = action === 'start' ? 'running' : 'stopped';
      const session = await f.app.inject({ method: 'GET', url: `/v1/vms/${id}`, headers: { ...admin, 'x-novacron-after': String(written.json().position) } });
      expect(session.statusCode).toBe(200);
      expect(session.json().state).toBe(state);
      const list = await f.app.inject({ method: 'GET', url: '/v1/vms', headers: admin });
      expect(list.statusCode).toBe(200);
    }
    expect(await metric('novacron_query_cache_l2_errors_total', '{op="get"}')).toBeGreaterThan(0);
    expect(await metric('novacron_query_cache_hits_total', '{query="vm"}')).toBe(0); // L1 stores nothing without its invalidations
    expect(await metric('novacron_invalidation_subscriber_up')).toBe(0);
    expect(await metric('novacron_query_cache_l2_hits_total', '{query="vm"}')).toBe(0);
  });
});
