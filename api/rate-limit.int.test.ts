// Rate limits shared through Redis (NOVACRON_REDIS_URL; skipped when unset,
// failing under NOVACRON_REQUIRE_INFRA=1): two API instances, one budget.
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisClient } from '../projections/cache-invalidation/index.ts';
import { connectedClient, dropRedisPrefix, redisInfra, uniqueRedisPrefix } from '../projections/cache-invalidation/redis-testing.ts';
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

  it('two API instances on one Redis spend one budget per tenant', async () => {
    const env = { NOVACRON_REDIS_URL: infra.url(), NOVACRON_REDIS_PREFIX: prefix, NOVACRON_RATE_LIMIT_MAX: '10', NOVACRON_RATE_LIMIT_WINDOW_MS: '60000', NOVACRON_JWT_SECRET: 'r'.repeat(40) };
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
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});
