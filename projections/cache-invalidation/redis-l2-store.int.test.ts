/**
 * The L2 store's tag index against a real Redis (NOVACRON_REDIS_URL; skipped
 * when unset, failing under NOVACRON_REQUIRE_INFRA=1): it must never let an
 * entry outlive an invalidation of its tags, and must not grow with entries
 * that have already expired. Each test has its own prefix.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient } from './redis-client.ts';
import { createRedisL2Store } from './redis-l2-store.ts';
import { l2Root } from './redis-protocol.ts';
import { connectedClient, dropRedisPrefix, eventually, redisInfra, uniqueRedisPrefix } from './redis-testing.ts';

const infra = redisInfra();

describe.runIf(infra.run)('the L2 store’s tag index in Redis', () => {
  let client: Redis | undefined;
  const prefixes: string[] = [];
  afterEach(async () => {
    if (client) for (const p of prefixes.splice(0)) await dropRedisPrefix(client, p);
    await client?.quit();
    client = undefined;
  });

  async function setup(name: string) {
    const prefix = uniqueRedisPrefix(name);
    prefixes.push(prefix);
    client = await connectedClient(createRedisClient(infra.url(), { timeoutMs: 2000 }));
    return { prefix, client, store: createRedisL2Store(client, prefix), tagKey: (tag: string) => `${l2Root(prefix)}:0:t:${tag}` };
  }

  it('an entry outlives no invalidation of its tags, even when a later entry under the same tag has a shorter TTL', async () => {
    const { client, store, tagKey } = await setup('l2-tag-ttl');
    // Instances may run with different NOVACRON_CACHE_L2_TTL_SECONDS (a rolling change of it).
    expect(await store.set('long', { value: 'v1', tags: ['vm:1'], checkpoint: 1 }, 60_000)).toBe(true);
    expect(await store.set('short', { value: 'v1', tags: ['vm:1'], checkpoint: 1 }, 30)).toBe(true);
    await eventually('the short entry expires', async () => (await client.exists(`${tagKey('vm:1').replace(':t:vm:1', ':e:short')}`)) === 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The index of tag vm:1 must live as long as its longest-lived entry …
    expect(await client.pttl(tagKey('vm:1'))).toBeGreaterThan(50_000);
    // … so the next invalidation of vm:1 still reaches the long-lived entry.
    expect(await store.evict(['vm:1'], 2, `${uniqueRedisPrefix('unused')}.invalidations`, 'x')).toBe(1);
    expect((await store.get('long')).entry).toBeNull();
  });

  it('the index of a tag does not keep the keys of entries that expired', async () => {
    const { client, store, tagKey } = await setup('l2-tag-growth');
    // A hot tag (the `vms` list tag) keeps being written while its older entries expire by TTL, never invalidated.
    const started = performance.now();
    let written = 0;
    while (performance.now() - started < 400) {
      await store.set(`page-${written++}`, { value: written, tags: ['vms'], checkpoint: 1 }, 100);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await store.set('page-last', { value: 'last', tags: ['vms'], checkpoint: 1 }, 100);
    written++;
    // Only the entries of the last 100 ms are alive; the index must not hold all of them.
    const size = (await client.type(tagKey('vms'))) === 'zset' ? await client.zcard(tagKey('vms')) : await client.scard(tagKey('vms'));
    expect(written).toBeGreaterThan(40); // about 4 × as many as live at the end
    expect(size).toBeLessThan(written / 2);
    expect(size).toBeGreaterThanOrEqual(1);
  });
});
