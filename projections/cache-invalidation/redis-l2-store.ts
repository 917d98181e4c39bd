/**
 * The L2 cache's storage in Redis: entries with a TTL, and tag → keys sets,
 * kept consistent by Lua scripts (each runs atomically), so an invalidation
 * deletes every entry carrying one of its tags. Key layout in
 * redis-protocol.ts. The scripts compute their keys from the prefix: fine on
 * a standalone Redis (or a primary with replicas), not on Redis Cluster.
 *
 * A tag's index is a sorted set of keys scored by their entry's expiry: it
 * forgets expired entries as new ones come, and it always outlives the
 * entries it lists, so an invalidation finds every live entry of its tags.
 *
 * Three rules make a surviving entry never older than the invalidations
 * Redis has applied:
 * - `evict` deletes the tagged entries, raises `through` to the commit's
 *   checkpoint and PUBLISHes the message, in one script: a subscriber that
 *   receives an invalidation can no longer read what it evicted from L2;
 * - `set` refuses an entry read at a checkpoint below `through` (a writer
 *   whose projection lags, or whose load raced an invalidation);
 * - `flush` (after invalidations were lost) moves to a new epoch, so every
 *   older entry is unreachable at once and expires with its TTL.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { decodeL2Entry, encodeL2Entry, l2Root, type L2Entry } from './redis-protocol.ts';

interface Script {
  lua: string;
  sha: string;
}
const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

const BASE = `
local root = ARGV[1]
local epoch = redis.call('GET', root .. ':epoch') or '0'
local base = root .. ':' .. epoch
`;

/** ARGV: root, channel, message, through ('' when unknown), tags… → entries deleted. */
const EVICT = script(`${BASE}
if ARGV[4] ~= '' then
  local current = tonumber(redis.call('GET', root .. ':through') or '-1')
  if tonumber(ARGV[4]) > current then redis.call('SET', root .. ':through', ARGV[4]) end
end
local evicted = 0
for i = 5, #ARGV do
  local tagKey = base .. ':t:' .. ARGV[i]
  local keys = redis.call('ZRANGE', tagKey, 0, -1)
  for _, key in ipairs(keys) do
    evicted = evicted + redis.call('DEL', base .. ':e:' .. key)
  end
  redis.call('DEL', tagKey)
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return evicted
`);

/** ARGV: root, channel, message, through ('' when unknown) → the new epoch. */
const FLUSH = script(`
local root = ARGV[1]
local epoch = redis.call('INCR', root .. ':epoch')
if ARGV[4] ~= '' then
  local current = tonumber(redis.call('GET', root .. ':through') or '-1')
  if tonumber(ARGV[4]) > current then redis.call('SET', root .. ':through', ARGV[4]) end
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return epoch
`);

/** ARGV: root, key → { entry or nil, through or nil }. */
const GET = script(`${BASE}
return { redis.call('GET', base .. ':e:' .. ARGV[2]), redis.call('GET', root .. ':through') }
`);

/**
 * ARGV: root, key, payload, ttl ms, checkpoint, tags… → 1 stored, 0 refused (read below through).
 * A tag's index scores each key by its entry's expiry (Redis's clock): the keys of
 * expired entries are dropped as new ones come, and the index lives as long as its
 * longest-lived entry (never shortened by an entry with a shorter TTL).
 */
const SET = script(`
-- TIME before a write: needs effects replication (the default from Redis 5; asked for on older ones).
if redis.replicate_commands then redis.replicate_commands() end
${BASE}
local through = tonumber(redis.call('GET', root .. ':through') or '-1')
if tonumber(ARGV[5]) < through then return 0 end
local ttl = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('SET', base .. ':e:' .. ARGV[2], ARGV[3], 'PX', ttl)
for i = 6, #ARGV do
  local tagKey = base .. ':t:' .. ARGV[i]
  redis.call('ZREMRANGEBYSCORE', tagKey, '-inf', '(' .. now)
  redis.call('ZADD', tagKey, now + ttl, ARGV[2])
  if redis.call('PTTL', tagKey) < ttl then redis.call('PEXPIRE', tagKey, ttl) end
end
return 1
`);

async function run(client: Redis, { lua, sha }: Script, args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(sha, 0, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(lua, 0, ...args);
  }
}

const throughArg = (through: number | undefined): string => (through === undefined ? '' : String(through));

export interface RedisL2Store {
  /** The entry under `key` (null when absent or unreadable), and `through`. */
  get(key: string): Promise<{ entry: L2Entry | null; through: number }>;
  /** Stores `entry` for `ttlMs` unless it was read below `through`; whether it was stored. */
  set(key: string, entry: L2Entry, ttlMs: number): Promise<boolean>;
  /** Deletes the entries carrying `tags`, raises `through`, then publishes `message` on `channel`; the number deleted. */
  evict(tags: readonly string[], through: number | undefined, channel: string, message: string): Promise<number>;
  /** The highest checkpoint whose invalidations Redis has applied (-1: none). */
  through(): Promise<number>;
  /** Makes every entry unreachable (a new epoch), raises `through`, then publishes `message`. */
  flush(through: number | undefined, channel: string, message: string): Promise<number>;
}

export function createRedisL2Store(client: Redis, prefix: string): RedisL2Store {
  const root = l2Root(prefix);
  return {
    async get(key) {
      const reply = (await run(client, GET, [root, key])) as [string | null, string | null] | null;
      const [raw, through] = Array.isArray(reply) ? reply : [null, null];
      return { entry: typeof raw === 'string' ? decodeL2Entry(raw) : null, through: through === null || through === undefined ? -1 : Number(through) };
    },
    async set(key, entry, ttlMs) {
      return (await run(client, SET, [root, key, encodeL2Entry(entry), Math.max(1, Math.round(ttlMs)), entry.checkpoint, ...new Set(entry.tags)])) === 1;
    },
    async evict(tags, through, channel, message) {
      return Number(await run(client, EVICT, [root, channel, message, throughArg(through), ...new Set(tags)]));
    },
    async through() {
      const value = await client.get(`${root}:through`);
      return value === null ? -1 : Number(value);
    },
    async flush(through, channel, message) {
      return Number(await run(client, FLUSH, [root, channel, message, throughArg(through)]));
    },
  };
}
