import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createRedisL2Store, freshEnough, type L2Entry } from '../../projections/cache-invalidation/index.ts';

export interface L2CacheOptions {
  /** The command connection (createRedisClient: fails fast, per-command timeout). */
  client: Redis;
  /** NOVACRON_REDIS_PREFIX: keys are `<prefix>:l2:…`. */
  prefix: string;
  /** NOVACRON_CACHE_L2_TTL_SECONDS: how long an entry lives when nothing evicts it. */
  ttlSeconds: number;
  /** Prometheus registry of the app (`app.metrics.registry`). */
  registry: Registry;
}

/**
 * The API's L2 cache of query results, in Redis and shared by every API
 * instance: entries with a TTL, evicted by the invalidations of the tags
 * they carry (projections/cache-invalidation/redis-l2-store.ts).
 *
 * It never fails a query: an error or a timeout of Redis is counted
 * (novacron_query_cache_l2_errors_total{op}) and answered as a miss, so the
 * query reads the projection. Writes are not awaited by the query.
 *
 * Metrics beside the L1's: novacron_query_cache_l2_hits_total{query},
 * _l2_misses_total{query}, _l2_hit_ratio, _l2_stores_total{outcome: stored |
 * refused}, _l2_errors_total{op: get | set}. (Evictions are counted where
 * they happen, by the publishing bus: _l2_evictions_total.)
 */
export function createL2Cache({ client, prefix, ttlSeconds, registry }: L2CacheOptions) {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new TypeError('createL2Cache: ttlSeconds must be a positive integer');
  const store = createRedisL2Store(client, prefix);
  const ttlMs = ttlSeconds * 1000;
  const hits = new Counter({ name: 'novacron_query_cache_l2_hits_total', help: 'Query results answered from the L2 cache (Redis), by query.', labelNames: ['query'] as const, registers: [registry] });
  const misses = new Counter({
    name: 'novacron_query_cache_l2_misses_total',
    help: 'L1 misses not answered from the L2 cache either (absent, too old for a session read, or Redis failed), by query.',
    labelNames: ['query'] as const,
    registers: [registry],
  });
  const stores = new Counter({
    name: 'novacron_query_cache_l2_stores_total',
    help: 'Query results written to the L2 cache: stored, or refused (read from a projection behind the invalidations Redis has applied).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'novacron_query_cache_l2_errors_total',
    help: 'L2 cache operations that failed (Redis down, slow or answering garbage), by op; the query went on without the L2.',
    labelNames: ['op'] as const,
    registers: [registry],
  });
  let hitCount = 0;
  let missCount = 0;
  new Gauge({
    name: 'novacron_query_cache_l2_hit_ratio',
    help: 'Hits / (hits + misses) of the L2 query cache since start (0 before any read).',
    registers: [registry],
    collect() {
      this.set(hitCount + missCount === 0 ? 0 : hitCount / (hitCount + missCount));
    },
  });
  const miss = (query: string): null => {
    misses.inc({ query });
    missCount++;
    return null;
  };

  return {
    /** The entry of `key` fit for a read that must reflect the log up to `atLeast` (any entry without it), or null. Never throws. */
    async get(query: string, key: string, atLeast?: number): Promise<L2Entry | null> {
      let found: Awaited<ReturnType<typeof store.get>>;
      try {
        found = await store.get(key);
      } catch {
        errors.inc({ op: 'get' });
        return miss(query);
      }
      const { entry, through } = found;
      if (entry === null || !freshEnough(entry.checkpoint, through, atLeast)) return miss(query);
      hits.inc({ query });
      hitCount++;
      return entry;
    },
    /** Writes `entry` in the background (unless Redis has applied invalidations past its checkpoint). Resolves whether it was stored; never rejects. */
    set(key: string, entry: L2Entry): Promise<boolean> {
      return store.set(key, entry, ttlMs).then(
        (stored) => {
          stores.inc({ outcome: stored ? 'stored' : 'refused' });
          return stored;
        },
        () => {
          errors.inc({ op: 'set' });
          return false;
        },
      );
    },
  };
}

export type L2Cache = ReturnType<typeof createL2Cache>;
