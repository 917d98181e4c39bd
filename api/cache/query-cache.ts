import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import { freshEnough, type InvalidationBus } from '../../projections/cache-invalidation/index.ts';

export interface QueryCacheOptions {
  /** Where invalidations arrive: every entry carrying a published tag is evicted. */
  bus: InvalidationBus;
  /** Prometheus registry of the app (`app.metrics.registry`). */
  registry: Registry;
  /** Most entries kept; the least recently used goes first. */
  max?: number;
}

/** A cached result: its value, its tags, and the checkpoint of the projection it was read at (-1 when unknown). */
export interface CacheEntry {
  value: unknown;
  tags: readonly string[];
  checkpoint: number;
}
type Entry = CacheEntry;

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
 * Session reads (`lookup(…, atLeast)`) take an entry only if it was read at
 * or after the position they need, or if the invalidations up to that
 * position have all arrived (`through`): then the entry survived them. In
 * process the commit publishes before it wakes the session reads, so that is
 * always so; over Redis an invalidation may arrive after the wake-up, and the
 * entry is skipped. When the bus says invalidations may have been lost
 * (`onFlush`) everything is dropped, and nothing is stored while the bus is
 * not `live`.
 *
 * Metrics: novacron_query_cache_hits_total{query}, _misses_total{query},
 * _evictions_total{reason: invalidated | capacity | flushed}, _hit_ratio, _entries.
 */
export function createQueryCache({ bus, registry, max = 10_000 }: QueryCacheOptions) {
  if (!Number.isInteger(max) || max < 1) throw new TypeError('createQueryCache: max must be a positive integer');
  const hits = new Counter({ name: 'novacron_query_cache_hits_total', help: 'Query results answered from the L1 cache, by query.', labelNames: ['query'] as const, registers: [registry] });
  const misses = new Counter({ name: 'novacron_query_cache_misses_total', help: 'Query results not in the L1 cache (then read from L2 or the projection), by query.', labelNames: ['query'] as const, registers: [registry] });
  const evictions = new Counter({
    name: 'novacron_query_cache_evictions_total',
    help: 'L1 cache entries evicted: invalidated (an event changed what they were read from), capacity (least recently used) or flushed (the Redis invalidation bus lost its subscription).',
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

  /** Highest checkpoint whose invalidations have all arrived (-1: none since start or the last flush). */
  let through = -1;
  /** Counts invalidations and flushes: a caller that awaited something can tell whether one arrived meanwhile. */
  let seq = 0;

  function invalidate(tags: readonly string[], upTo?: number): number {
    seq++;
    if (upTo !== undefined && upTo > through) through = upTo;
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
  function flush(): void {
    seq++;
    through = -1;
    if (lru.size > 0) evictions.inc({ reason: 'flushed' }, lru.size);
    lru.clear();
    byTag.clear();
  }
  const unsubscribe = bus.subscribe(invalidate, flush);

  function lookup(query: string, key: string, atLeast?: number): CacheEntry | undefined {
    const entry = lru.get(key);
    if (entry !== undefined && freshEnough(entry.checkpoint, through, atLeast)) {
      hits.inc({ query });
      hitCount++;
      return entry;
    }
    misses.inc({ query });
    missCount++;
    return undefined;
  }
  /** Stores `entry` under `key` (replacing any), unless the bus may be losing invalidations; whether it did. */
  function store(key: string, entry: CacheEntry): boolean {
    if (!bus.live) return false;
    // Replacing an entry disposes of it first (unlinking its tags).
    lru.set(key, { value: entry.value, tags: [...entry.tags], checkpoint: entry.checkpoint });
    link(key, entry.tags);
    return true;
  }

  return {
    /**
     * The cached result of `key`, or `load()`'s (stored with its tags). `query`
     * names the query in the metrics. `load` must be synchronous.
     */
    read<T>(query: string, key: string, load: () => { value: T; tags: readonly string[]; checkpoint?: number }): T {
      const entry = lookup(query, key);
      // Stored from a load() of the same key, whose result is a T.
      if (entry !== undefined) return entry.value as T;
      const loaded = load();
      store(key, { value: loaded.value, tags: loaded.tags, checkpoint: loaded.checkpoint ?? -1 });
      return loaded.value;
    },
    /** The entry of `key` fit for a read that must reflect the log up to `atLeast` (any entry without it); counts a hit or a miss. */
    lookup,
    store,
    /** Evicts every entry carrying one of `tags`; the number evicted. */
    invalidate,
    /** Drops every entry. */
    flush,
    /** Highest checkpoint whose invalidations have all arrived here (-1: unknown). */
    get through() {
      return through;
    },
    /** Changes with every invalidation or flush. */
    get seq() {
      return seq;
    },
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
