import { afterEach, describe, expect, it } from 'vitest';
import { createTokenBuckets } from './rate-limit-bucket.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const spec = { vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12' };

/** A clock the test moves. */
const manualClock = (start = 1_700_000_000_000) => {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
};

describe('rate limits: a token bucket per tenant (NOVACRON_RATE_LIMIT_RATE per second, bursts of NOVACRON_RATE_LIMIT_BURST)', () => {
  it('let a tenant bursting at 5000 requests/s through ~2000 at once, then ~1000/s, while another tenant is unaffected', () => {
    const clock = manualClock();
    const buckets = createTokenBuckets({ rate: 1_000, burst: 2_000 }, { now: clock.now });
    const passedPerSecond: number[] = [];
    let firstMillisecond = 0;
    let other = 0;
    // 5000 requests/s for 4 s: 5 requests every millisecond; another tenant sends 1 every 10 ms.
    for (let second = 0; second < 4; second++) {
      let passed = 0;
      for (let ms = 0; ms < 1000; ms++) {
        for (let i = 0; i < 5; i++) if (buckets.take('tenant:acme').allowed) passed++;
        if (second === 0 && ms === 0) firstMillisecond = passed;
        if (ms % 10 === 0) other += buckets.take('tenant:globex').allowed ? 1 : 0;
        clock.ms += 1;
      }
      passedPerSecond.push(passed);
    }
    console.log(`token bucket at 5000 req/s offered: ${JSON.stringify({ firstMillisecond, passedPerSecond, otherTenant: `${other}/400` })}`);
    expect(firstMillisecond).toBe(5);
    // The first second: the burst of 2000 plus ~1000 refilled during it; then ~1000/s.
    expect(passedPerSecond[0]).toBeGreaterThanOrEqual(2_950);
    expect(passedPerSecond[0]).toBeLessThanOrEqual(3_001);
    for (const passed of passedPerSecond.slice(1)) {
      expect(passed).toBeGreaterThanOrEqual(990);
      expect(passed).toBeLessThanOrEqual(1_010);
    }
    expect(other).toBe(400);
  });

  it('spend the burst at once: ~2000 of 5000 simultaneous requests pass', () => {
    const clock = manualClock();
    const buckets = createTokenBuckets({ rate: 1_000, burst: 2_000 }, { now: clock.now });
    let passed = 0;
    for (let i = 0; i < 5_000; i++) if (buckets.take('tenant:acme').allowed) passed++;
    expect(passed).toBe(2_000);
    const refused = buckets.take('tenant:acme');
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1 });
    clock.ms += 250;
    let after = 0;
    for (let i = 0; i < 5_000; i++) if (buckets.take('tenant:acme').allowed) after++;
    expect(after).toBe(250);
  });

  it('answer 429 NC_RATE_LIMITED with Retry-After once the bucket is empty, per tenant, and a limited command changes nothing', async () => {
    const clock = manualClock();
    f = await fleetApp({ NOVACRON_RATE_LIMIT_RATE: '1', NOVACRON_RATE_LIMIT_BURST: '8' }, { now: clock.now });
    await seedApi(f); // requests as the operator: its own bucket
    const acme = f.tenant('acme');
    for (let i = 0; i < 8; i++) {
      const ok = await f.app.inject({ method: 'GET', url: '/v1/vms', headers: acme });
      expect(ok.statusCode).toBe(200);
      expect(Number(ok.headers['x-ratelimit-remaining'])).toBe(7 - i);
    }
    const limited = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: acme, payload: { name: 'one-too-many', ...spec } });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toMatchObject({ error: { code: 'NC_RATE_LIMITED', details: { key: 'tenant:acme', ratePerSecond: 1, burst: 8, retryAfterSeconds: 1 } } });
    // Nothing was created: another tenant (its own bucket) and the operator see no VM of acme.
    const globex = await f.app.inject({ method: 'GET', url: '/v1/vms', headers: f.tenant('globex') });
    expect(globex.statusCode).toBe(200);
    expect(await f.platform.store.readAll({ maxCount: 10_000 }).then((events) => events.filter((e) => e.type === 'VmCreated'))).toEqual([]);
    // Every user of a tenant shares its bucket; public routes are not limited.
    expect((await f.app.inject({ method: 'GET', url: '/v1/vms', headers: f.tenant('acme', 'tenant-user') })).statusCode).toBe(429);
    for (let i = 0; i < 10; i++) expect((await f.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // A second later the bucket holds one token again.
    clock.ms += 1_000;
    expect((await f.app.inject({ method: 'GET', url: '/v1/vms', headers: acme })).statusCode).toBe(200);
    expect((await f.app.inject({ method: 'GET', url: '/v1/vms', headers: acme })).statusCode).toBe(429);
  });

  it('are off with NOVACRON_RATE_LIMIT_RATE=0', async () => {
    f = await fleetApp({ NOVACRON_RATE_LIMIT_RATE: '0', NOVACRON_RATE_LIMIT_BURST: '1' });
    const operator = f.operator;
    for (let i = 0; i < 50; i++) expect((await f.app.inject({ method: 'GET', url: '/v1/regions', headers: operator })).statusCode).toBe(200);
  });
});

describe('failed authentications (NOVACRON_AUTH_FAILURE_BURST, then NOVACRON_AUTH_FAILURE_PER_MINUTE)', () => {
  it('are limited per address before any verification, and per API key id; valid credentials still pass', async () => {
    const clock = manualClock();
    f = await fleetApp({ NOVACRON_AUTH_FAILURE_BURST: '5', NOVACRON_AUTH_FAILURE_PER_MINUTE: '60' }, { now: clock.now });
    const bad = { authorization: 'Bearer not.a.token' };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await f.app.inject({ url: '/v1/vms', headers: bad, remoteAddress: '10.0.0.1' })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const limited = await f.app.inject({ url: '/v1/vms', headers: bad, remoteAddress: '10.0.0.1' });
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json().error).toMatchObject({ code: 'NC_RATE_LIMITED', details: { key: 'ip:10.0.0.1' } });
    // Another address is not affected; the limited address with a valid token is served from the cache, or refused before verification.
    expect((await f.app.inject({ url: '/v1/vms', headers: bad, remoteAddress: '10.0.0.2' })).statusCode).toBe(401);
    expect((await f.app.inject({ url: '/v1/regions', headers: f.operator, remoteAddress: '10.0.0.3' })).statusCode).toBe(200);
    expect((await f.app.inject({ url: '/v1/regions', headers: f.operator, remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
    clock.ms += 1_000;
    expect((await f.app.inject({ url: '/v1/vms', headers: bad, remoteAddress: '10.0.0.1' })).statusCode).toBe(401);

    // Guessing one API key's secret from many addresses: limited by its id.
    const guesses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const key = `nck_0123456789abcdef_${String(i).padStart(43, 'x')}`;
      guesses.push((await f.app.inject({ url: '/v1/vms', headers: { 'x-api-key': key }, remoteAddress: `10.1.0.${i}` })).statusCode);
    }
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });
});
