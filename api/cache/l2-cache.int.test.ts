/**
 * The L2 query cache against a real Redis (NOVACRON_REDIS_URL; skipped when
 * unset, failing under NOVACRON_REQUIRE_INFRA=1), and against a Redis that
 * is not there.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, createRedisL2Store } from '../../projections/cache-invalidation/index.ts';
import { l2Root } from '../../projections/cache-invalidation/redis-protocol.ts';
import { connectedClient, dropRedisPrefix, redisInfra, uniqueRedisPrefix } from '../../projections/cache-invalidation/redis-testing.ts';
import { createL2Cache } from './l2-cache.ts';

const infra = redisInfra();

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

describe.runIf(infra.run)('the L2 query cache in Redis', () => {
  let cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function setup(ttlSeconds = 60) {
    const prefix = uniqueRedisPrefix('l2');
    const client = await connectedClient(createRedisClient(infra.url(), { timeoutMs: 1000 }));
    cleanup.push(async () => {
      await dropRedisPrefix(client, prefix);
      await client.quit();
    });
    const registry = new Registry();
    return { prefix, client, registry, l2: createL2Cache({ client, prefix, ttlSeconds, registry }), store: createRedisL2Store(client, prefix) };
  }

  it('stores an entry with its TTL and tags, answers it, and counts hits, misses and stores', async () => {
    const { prefix, client, registry, l2 } = await setup(30);
    expect(await l2.get('vms', 'k1')).toBeNull();
    const entry = { value: { items: [{ id: 'vm-1', state: 'running' }], nextCursor: null }, tags: ['vm:vm-1', 'vms:tenant:acme'], checkpoint: 7 };
    expect(await l2.set('k1', entry)).toBe(true);
    expect(await l2.get('vms', 'k1')).toEqual(entry);
    const ttl = await client.pttl(`${l2Root(prefix)}:0:e:k1`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await client.zrange(`${l2Root(prefix)}:0:t:vms:tenant:acme`, '0', '-1')).toEqual(['k1']);
    expect(await client.pttl(`${l2Root(prefix)}:0:t:vm:vm-1`)).toBeGreaterThan(25_000);
    expect(await metric(registry, 'novacron_query_cache_l2_hits_total', { query: 'vms' })).toBe(1);
    expect(await metric(registry, 'novacron_query_cache_l2_misses_total', { query: 'vms' })).toBe(1);
    expect(await metric(registry, 'novacron_query_cache_l2_hit_ratio')).toBe(0.5);
    expect(await metric(registry, 'novacron_query_cache_l2_stores_total', { outcome: 'stored' })).toBe(1);
  });

  it('a session read never gets an entry older than its write, unless Redis has applied the invalidations up to it', async () => {
    const { l2, store } = await setup();
    await l2.set('vm-1', { value: 'stopped', tags: ['vm:vm-1'], checkpoint: 10 });
    expect(await l2.get('vm', 'vm-1', 10)).not.toBeNull();
    expect(await l2.get('vm', 'vm-1', 11)).toBeNull(); // the write at 11 may have changed it: not shown
    expect(await l2.get('vm', 'vm-1')).not.toBeNull(); // an eventual read takes it
    // An invalidation up to 12 that did not touch it: it survived, so it reflects 11 and 12.
    await store.evict(['vm:other'], 12, 'unused-channel', 'x');
    expect((await l2.get('vm', 'vm-1', 12))?.value).toBe('stopped');
    // One that did: gone.
    await store.evict(['vm:vm-1'], 13, 'unused-channel', 'x');
    expect(await l2.get('vm', 'vm-1')).toBeNull();
    // And a writer that read before 13 is refused.
    expect(await l2.set('vm-1', { value: 'stale', tags: ['vm:vm-1'], checkpoint: 12 })).toBe(false);
  });

  it('garbage under its keys is a miss, not an error', async () => {
    const { prefix, client, l2 } = await setup();
    await client.set(`${l2Root(prefix)}:0:e:k`, 'not json');
    expect(await l2.get('vm', 'k')).toBeNull();
  });
});

describe('the L2 query cache with Redis unreachable', () => {
  it('answers misses and refuses writes, counting the errors, without throwing', async () => {
    const client = createRedisClient('redis://127.0.0.1:1', { timeoutMs: 50 });
    try {
      const registry = new Registry();
      const l2 = createL2Cache({ client, prefix: 'novacron', ttlSeconds: 60, registry });
      expect(await l2.get('vm', 'k')).toBeNull();
      expect(await l2.set('k', { value: 1, tags: ['vm:1'], checkpoint: 1 })).toBe(false);
      expect(await metric(registry, 'novacron_query_cache_l2_errors_total', { op: 'get' })).toBe(1);
      expect(await metric(registry, 'novacron_query_cache_l2_errors_total', { op: 'set' })).toBe(1);
      expect(await metric(registry, 'novacron_query_cache_l2_misses_total', { query: 'vm' })).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
