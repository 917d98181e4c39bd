// Rate limits shared through Redis (NOVACRON_REDIS_URL; skipped when unset,
// failing under NOVACRON_REQUIRE_INFRA=1): the Lua token bucket, and two API
// instances spending one bucket.
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisClient } from '../projections/cache-invalidation/index.ts';
import { connectedClient, dropRedisPrefix, redisInfra, uniqueRedisPrefix } from '../projections/cache-invalidation/redis-testing.ts';
import { createRedisTokenBuckets } from './rate-limit-redis.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const infra = redisInfra();

describe.runIf(infra.run)('rate limits on Redis', () => {
  const prefix = uniqueRedisPrefix('ratelimit');
  const apps: FleetApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
    const admin = await connectedClient(createRedisClient(infra.url()));
    await dropRedisPrefix(admin, prefix);
    admin.disconnect();
  });

  it('the Lua bucket lets a tenant bursting at 5000 requests/s through ~2000 at once, then ~1000/s, and another tenant is unaffected', async () => {
    // 5000 scripts in flight at once take longer than the cache's 250 ms command timeout on a loaded machine.
    const client = await connectedClient(createRedisClient(infra.url(), { timeoutMs: 20_000 }));
    try {
      const buckets = createRedisTokenBuckets(client, prefix, { rate: 1_000, burst: 2_000 });
      // All at once: 5000 requests in flight together.
      const atOnce = await Promise.all(Array.from({ length: 5_000 }, () => buckets.take('tenant:burst')));
      const passedAtOnce = atOnce.filter((a) => a.allowed).length;
      const refused = atOnce.find((a) => !a.allowed);

      // Then 5000 requests/s offered (50 every 10 ms) for 2 s, counted as they pass.
      const start = performance.now();
      let offered = 0;
      let passed = 0;
      let other = 0;
      while (performance.now() - start < 2_000) {
        const tick = performance.now();
        const answers = await Promise.all([...Array.from({ length: 50 }, () => buckets.take('tenant:burst')), buckets.take('tenant:quiet')]);
        offered += 50;
        passed += answers.slice(0, 50).filter((a) => a.allowed).length;
        other += answers[50]?.allowed === true ? 1 : 0;
        const rest = 10 - (performance.now() - tick);
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
      const seconds = (performance.now() - start) / 1000;
      const figures = { passedAtOnce, offeredPerSecond: Math.round(offered / seconds), passedPerSecond: Math.round(passed / seconds), otherTenant: `${other}/${offered / 50}` };
      console.log(`Redis token bucket: ${JSON.stringify(figures)}`);
      // The burst of 2000, plus what refilled while 5000 scripts ran.
      expect(passedAtOnce).toBeGreaterThanOrEqual(2_000);
      expect(passedAtOnce).toBeLessThan(2_000 + 1_000 * 5);
      expect(refused?.retryAfterMs).toBeGreaterThanOrEqual(1);
      // Offered well above the rate, ~1000/s pass (the Redis clock decides, not this one).
      expect(offered / seconds).toBeGreaterThan(1_500);
      expect(passed / seconds).toBeGreaterThan(850);
      expect(passed / seconds).toBeLessThan(1_150 + 2_000 / seconds);
      expect(other).toBe(offered / 50);
    } finally {
      client.disconnect();
    }
  });

  it('two API instances on one Redis spend one bucket per tenant', async () => {
    const env = { NOVACRON_REDIS_URL: infra.url(), NOVACRON_REDIS_PREFIX: prefix, NOVACRON_RATE_LIMIT_RATE: '1', NOVACRON_RATE_LIMIT_BURST: '10', NOVACRON_JWT_SECRET: 'r'.repeat(40) };
    const a = await fleetApp(env);
    apps.push(a);
    const b = await fleetApp(env);
    apps.push(b);
    await seedApi(a, { nodes: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const app = i % 2 === 0 ? a : b;
      statuses.push((await app.app.inject({ method: 'GET', url: '/v1/regions', headers: app.tenant('acme') })).statusCode);
    }
    // At 1 token/s, at most one more may have refilled while the 12 requests ran.
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    const limited = await b.app.inject({ method: 'GET', url: '/v1/regions', headers: b.tenant('acme') });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect((await b.app.inject({ method: 'GET', url: '/v1/regions', headers: b.tenant('globex') })).statusCode).toBe(200);
  });
});
