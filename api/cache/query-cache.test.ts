import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessInvalidationBus } from '../../projections/cache-invalidation/index.ts';
import { createQueryCache, type QueryCache } from './query-cache.ts';

let cache: QueryCache;
afterEach(() => cache?.close());

function setup(max = 100) {
  const bus = createInProcessInvalidationBus();
  const registry = new Registry();
  cache = createQueryCache({ bus, registry, max });
  let loads = 0;
  const read = (key: string, tags: string[], value: unknown = key) =>
    cache.read('q', key, () => {
      loads++;
      return { value, tags };
    });
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return sample?.value ?? 0;
  };
  return { bus, read, value, loads: () => loads };
}

describe('the L1 query cache', () => {
  it('answers a second read from the cache, and counts hits and misses', async () => {
    const { read, value, loads } = setup();
    expect(read('a', ['vm:1'])).toBe('a');
    expect(read('a', ['vm:1'])).toBe('a');
    expect(loads()).toBe(1);
    expect(await value('novacron_query_cache_hits_total', { query: 'q' })).toBe(1);
    expect(await value('novacron_query_cache_misses_total', { query: 'q' })).toBe(1);
    expect(await value('novacron_query_cache_hit_ratio')).toBe(0.5);
    expect(await value('novacron_query_cache_entries')).toBe(1);
  });

  it('evicts every entry carrying a published tag, and only those', async () => {
    const { bus, read, value, loads } = setup();
    read('list-acme', ['vm:1', 'vm:2', 'vms:tenant:acme']);
    read('vm-1', ['vm:1']);
    read('list-globex', ['vm:3', 'vms:tenant:globex']);
    bus.publish(['vm:1']);
    expect(cache.size).toBe(1);
    expect(await value('novacron_query_cache_evictions_total', { reason: 'invalidated' })).toBe(2);
    read('list-globex', ['vm:3', 'vms:tenant:globex']);
    expect(loads()).toBe(3);
    bus.publish(['vms:tenant:globex', 'nothing-cached']);
    expect(cache.size).toBe(0);
  });

  it('forgets the tags of what the LRU drops: a later invalidation evicts nothing else', async () => {
    const { bus, read, value } = setup(2);
    read('a', ['t:a', 'shared']);
    read('b', ['t:b', 'shared']);
    read('c', ['t:c']); // drops a, the least recently used
    expect(await value('novacron_query_cache_evictions_total', { reason: 'capacity' })).toBe(1);
    read('a', ['t:a']); // a again (drops b), now without the shared tag
    bus.publish(['shared']);
    expect(cache.size).toBe(2);
    bus.publish(['t:a']);
    expect(cache.size).toBe(1);
  });

  it('caches "not found" (null) like any answer', () => {
    const { bus, read, loads } = setup();
    expect(read('vm-9', ['vm:9'], null)).toBeNull();
    expect(read('vm-9', ['vm:9'], null)).toBeNull();
    expect(loads()).toBe(1);
    bus.publish(['vm:9']);
    expect(read('vm-9', ['vm:9'], { id: 9 })).toEqual({ id: 9 });
  });

  it('stops listening when closed', () => {
    const { bus, read } = setup();
    read('a', ['t']);
    cache.close();
    bus.publish(['t']);
    expect(cache.size).toBe(0);
  });
});
