import type { L2Cache } from './l2-cache.ts';
import type { QueryCache } from './query-cache.ts';

export interface TieredCacheOptions {
  l1: QueryCache;
  /** The Redis L2, or null (NOVACRON_REDIS_URL unset): L1 → projection. */
  l2: L2Cache | null;
  /** The checkpoint of the projection the loads read (read before each load, so the entry is at least that fresh). */
  checkpoint: () => number;
}

export interface ReadOptions {
  /** A session read: the log position the answer must reflect. Cached entries that cannot be shown to reflect it are skipped. */
  atLeast?: number;
}

/**
 * L1 miss → L2 → projection. A result loaded from the projection is stored in
 * L1 in the same tick (as L1's own `read`) and written to L2 in the
 * background. An L2 hit is copied into L1 only when no invalidation arrived
 * while L2 answered and it is at least as fresh as what L1 has been told
 * (`through`): otherwise an invalidation already applied to L1 but not yet to
 * L2 (a local commit's, sent to Redis a moment later) could put back into L1
 * what it evicted.
 */
export function createTieredCache({ l1, l2, checkpoint }: TieredCacheOptions) {
  return {
    async read<T>(query: string, key: string, load: () => { value: T; tags: readonly string[] }, { atLeast }: ReadOptions = {}): Promise<T> {
      const cached = l1.lookup(query, key, atLeast);
      // Entries of `key` are stored from a load() of the same key, whose result is a T.
      if (cached !== undefined) return cached.value as T;
      if (l2 !== null) {
        const seq = l1.seq;
        const shared = await l2.get(query, key, atLeast);
        if (shared !== null) {
          if (l1.seq === seq && shared.checkpoint >= l1.through) l1.store(key, shared);
          return shared.value as T;
        }
      }
      const at = checkpoint();
      const { value, tags } = load();
      l1.store(key, { value, tags, checkpoint: at });
      if (l2 !== null) void l2.set(key, { value, tags: [...tags], checkpoint: at });
      return value;
    },
  };
}

export type TieredCache = ReturnType<typeof createTieredCache>;
