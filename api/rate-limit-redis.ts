import type { Redis, Result } from 'ioredis';
import type { BucketAnswer, BucketSettings } from './rate-limit-bucket.ts';

/**
 * One token bucket in a Redis hash `{ tokens, at }`, refilled and taken in one
 * script (atomic: every API instance spends the same bucket). Time is the
 * Redis server's (TIME), so the instances' clocks do not matter. The key
 * expires once a full refill has passed: an idle bucket is a full one.
 * Returns { allowed (0/1), whole tokens left, ms until one token is back }.
 */
export const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', at)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
local wait = 0
if allowed == 0 then
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
return { allowed, math.floor(tokens), wait }
`;

export interface RedisTokenBuckets {
  take(key: string): Promise<BucketAnswer>;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    novacronTakeToken(key: string, rate: number, burst: number): Result<[number, number, number], Context>;
  }
}

/** Token buckets shared through Redis under `<prefix>:ratelimit:<key>`. */
export function createRedisTokenBuckets(client: Redis, prefix: string, { rate, burst }: BucketSettings): RedisTokenBuckets {
  if (!(rate > 0) || !(burst >= 1)) throw new RangeError(`a token bucket needs rate > 0 and burst >= 1 (got rate ${rate}, burst ${burst})`);
  if (typeof client.novacronTakeToken !== 'function') client.defineCommand('novacronTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  return {
    async take(key) {
      const [allowed, remaining, retryAfterMs] = await client.novacronTakeToken(`${prefix}:ratelimit:${key}`, rate, burst);
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
  };
}
