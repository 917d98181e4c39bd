import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../projections/cache-invalidation/redis-testing.ts';
import { fleetApp, seedApi, type FleetApp } from '../testing/fleet-app.ts';

let f: FleetApp | undefined;
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const abort of aborts.splice(0)) abort.abort();
  await f?.close();
  f = undefined;
});

describe('event feeds per tenant (NOVACRON_FEED_MAX_PER_TENANT)', () => {
  it('answer 429 NC_RATE_LIMITED with Retry-After past the limit, for that tenant only, and free a place when a feed closes', async () => {
    f = await fleetApp({ NOVACRON_FEED_MAX_PER_TENANT: '2' });
    await seedApi(f, { nodes: 1 });
    const url = await f.app.listen({ host: '127.0.0.1', port: 0 });
    const open = (headers: Record<string, string>) => {
      const abort = new AbortController();
      aborts.push(abort);
      return { abort, response: fetch(`${url}/v1/events`, { headers, signal: abort.signal }) };
    };
    const acme = f.tenant('acme', 'tenant-user');
    const first = open(acme);
    const second = open(acme);
    expect([(await first.response).status, (await second.response).status]).toEqual([200, 200]);
    const third = await open(acme).response;
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('5');
    expect((await third.json()).error).toMatchObject({ code: 'NC_RATE_LIMITED', details: { key: 'feeds:tenant:acme', limit: 2 } });
    // Another tenant and operators have their own places.
    expect((await open(f.tenant('globex')).response).status).toBe(200);
    expect((await open(f.operator).response).status).toBe(200);
    // The client leaving frees its place.
    first.abort.abort();
    await eventually('a place is free once a feed closes', async () => {
      const again = open(acme);
      const status = (await again.response).status;
      if (status !== 200) again.abort.abort();
      return status === 200;
    }, 10_000);
  });
});
