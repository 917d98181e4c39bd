import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { InvalidationBus } from '../../projections/cache-invalidation/index.ts';

export interface QueryCacheOptions {
  /** Where invalidations arrive: every entry carrying a published tag is evicted. */
  bus: InvalidationBus;
  /** Prometheus registry of the app (`app.metrics.registry`). */
  registry: Registry;
  /** Most entries kept; the least recently used goes first. */
  max?: number;
}

interface Entry {
  value: unknown;
  tags: readonly string[];
}

/**
 * The API's L1 cache of query results: an LRU (lru-cache) whose entries are
 * tagged with what they were read from (projections/cache-invalidation), and
 * evicted when the invalidation bus publishes one of those tags.
 *
 * `read` is synchronous from lookup to store: a result is loaded from the
 * projection and stored in the same tick, so no commit of the projection (and
 * no invalidation) can fall between the two, and an entry is never older than
 * the last invalidation of its tags.
 *
 * Metrics: novacron_query_cache_hits_total{query}, _misses_total{query},
 * _evictions_total{reason: invalidated | capacity}, _hit_ratio, _entries.
 */
export function createQueryCache({ bus, registry, max = 10_000 }: QueryCacheOptions) {
  if (!Number.isInteger(max) || max < 1) throw new TypeError('createQueryCache: max must be a positive integer');
  const hits = new Counter({ name: 'novacron_query_cache_hits_total', help: 'Query results answered from the L1 cache, by query.', labelNames: ['query'] as const, registers: [registry] });
  const misses = new Counter({ name: 'novacron_query_cache_misses_total', help: 'Query results read from the projection (not in the L1 cache), by query.', labelNames: ['query'] as const, registers: [registry] });
  const evictions = new Counter({
    name: 'novacron_query_cache_evictions_total',
    help: 'L1 cache entries evicted: invalidated (an event changed what they were read from) or capacity (least recently used).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  let hitCount = 0;
  let missCount = 0;
  const lru: LRUCache<string, Entry> = new LRUCache<string, Entry>({
    max,
    dispose: (entry, key, reason) => {
      unlink(key, entry.tags);
      if (reason === 'evict') evictions.inc({ reason: 'capacity' });
    },
  });
  new Gauge({
    name: 'novacron_query_cache_hit_ratio',
    help: 'Hits / (hits + misses) of the L1 query cache since start (0 before any read).',
    registers: [registry],
    collect() {
      this.set(hitCount + missCount === 0 ? 0 : hitCount / (hitCount + missCount));
    },
  });
  new Gauge({
    name: 'novacron_query_cache_entries',
    help: 'Entries in the L1 query cache.',
    registers: [registry],
    collect() {
      this.set(lru.size);
    },
  });

  /** tag → keys of the entries carrying it. */
  const byTag = new Map<string, Set<string>>();
  function link(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = byTag.get(tag);
      if (keys) keys.add(key);
      else byTag.set(tag, new Set([key]));
    }
  }
  function unlink(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = byTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) byTag.delete(tag);
    }
  }

  function invalidate(tags: readonly string[]): number {
    let evicted = 0;
    for (const tag of tags) {
      const keys = byTag.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) {
        if (lru.delete(key)) evicted++;
      }
    }
    if (evicted > 0) evictions.inc({ reason: 'invalidated' }, evicted);
    return evicted;
  }
  const unsubscribe = bus.subscribe(invalidate);

  return {
    /**
     * The cached result of `key`, or `load()`'s (stored with its tags). `query`
     * names the query in the metrics. `load` must be synchronous.
     */
    read<T>(query: string, key: string, load: () => { value: T; tags: readonly string[] }): T {
      const entry = lru.get(key);
      if (entry !== undefined) {
        hits.inc({ query });
        hitCount++;
        // Stored by this function from a load() of the same key, whose result is a T.
        return entry.value as T;
      }
      misses.inc({ query });
      missCount++;
      const loaded = load();
      lru.set(key, { value: loaded.value, tags: [...loaded.tags] });
      link(key, loaded.tags);
      return loaded.value;
    },
    /** Evicts every entry carrying one of `tags`; the number evicted. */
    invalidate,
    get size() {
      return lru.size;
    },
    close(): void {
      unsubscribe();
      lru.clear();
      byTag.clear();
    },
  };
}

export type QueryCache = ReturnType<typeof createQueryCache>;
