import { afterEach, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const spec = { vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12' };

describe('rate limits (NOVACRON_RATE_LIMIT_MAX per NOVACRON_RATE_LIMIT_WINDOW_MS)', () => {
  it('answer 429 NC_RATE_LIMITED with Retry-After past the budget, per tenant, and a limited command changes nothing', async () => {
    f = await fleetApp({ NOVACRON_RATE_LIMIT_MAX: '8', NOVACRON_RATE_LIMIT_WINDOW_MS: '60000' });
    await seedApi(f); // 6 requests as the operator: its own budget
    const acme = f.tenant('acme');
    for (let i = 0; i < 8; i++) {
      const ok = await f.app.inject({ method: 'GET', url: '/v1/vms', headers: acme });
      expect(ok.statusCode).toBe(200);
      expect(Number(ok.headers['x-ratelimit-remaining'])).toBe(7 - i);
    }
    const limited = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: acme, payload: { name: 'one-too-many', ...spec } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json()).toMatchObject({ error: { code: 'NC_RATE_LIMITED', details: { key: 'tenant:acme', limit: 8, windowMs: 60_000 } } });
    // Nothing was created: another tenant (its own budget) and the operator see no VM of acme.
    const globex = await f.app.inject({ method: 'GET', url: '/v1/vms', headers: f.tenant('globex') });
    expect(globex.statusCode).toBe(200);
    expect(await f.platform.store.readAll({ maxCount: 10_000 }).then((events) => events.filter((e) => e.type === 'VmCreated'))).toEqual([]);
    // Every user of a tenant shares its budget; public routes are not limited.
    expect((await f.app.inject({ method: 'GET', url: '/v1/vms', headers: f.tenant('acme', 'tenant-user') })).statusCode).toBe(429);
    for (let i = 0; i < 10; i++) expect((await f.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('are off with NOVACRON_RATE_LIMIT_MAX=0', async () => {
    f = await fleetApp({ NOVACRON_RATE_LIMIT_MAX: '0' });
    const operator = f.operator;
    for (let i = 0; i < 50; i++) expect((await f.app.inject({ method: 'GET', url: '/v1/regions', headers: operator })).statusCode).toBe(200);
  });
});
