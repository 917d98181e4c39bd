import { LRUCache } from 'lru-cache';

/** A token bucket's answer to one request. */
export interface BucketAnswer {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: ms until one token is back; when allowed: 0. */
  retryAfterMs: number;
}

export interface BucketSettings {
  /** Tokens added per second. */
  rate: number;
  /** Capacity of a bucket: the largest burst. */
  burst: number;
}

export interface TokenBuckets {
  /** Takes one token from `key`'s bucket when it has one. */
  take(key: string): BucketAnswer;
  /** `key`'s bucket without taking: would one more request pass? */
  peek(key: string): BucketAnswer;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The bucket refilled from `at` to `now` (pure; shared by the in-process and the Redis buckets' tests). */
export function refill(bucket: Bucket | undefined, now: number, { rate, burst }: BucketSettings): Bucket {
  if (bucket === undefined) return { tokens: burst, at: now };
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(burst, bucket.tokens + (elapsed * rate) / 1000), at: Math.max(now, bucket.at) };
}

const answer = (tokens: number, allowed: boolean, rate: number): BucketAnswer => ({
  allowed,
  remaining: Math.floor(tokens),
  retryAfterMs: allowed ? 0 : Math.ceil(((1 - tokens) * 1000) / rate),
});

/**
 * Token buckets in this process, one per key (at most `maxKeys`, least
 * recently used dropped first: a dropped bucket comes back full, which only
 * ever lets a quiet key through).
 */
export function createTokenBuckets({ rate, burst }: BucketSettings, { maxKeys = 100_000, now = Date.now }: { maxKeys?: number; now?: () => number } = {}): TokenBuckets {
  if (!(rate > 0) || !(burst >= 1)) throw new RangeError(`a token bucket needs rate > 0 and burst >= 1 (got rate ${rate}, burst ${burst})`);
  const buckets = new LRUCache<string, Bucket>({ max: maxKeys });
  return {
    take(key) {
      const bucket = refill(buckets.get(key), now(), { rate, burst });
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      buckets.set(key, bucket);
      return answer(bucket.tokens, allowed, rate);
    },
    peek(key) {
      const bucket = refill(buckets.get(key), now(), { rate, burst });
      return answer(bucket.tokens, bucket.tokens >= 1, rate);
    },
  };
}
