/**
 * For the *.int.test.ts suites that need Redis (`eval "$(infra/local/up)"`):
 * skipped when NOVACRON_REDIS_URL is unset, unless NOVACRON_REQUIRE_INFRA=1,
 * when they fail naming the variable. Each test uses its own key prefix
 * (hence its own channel and L2 keys) and drops its keys at the end.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

const REQUIRE = process.env['NOVACRON_REQUIRE_INFRA'] === '1';

export interface RedisInfra {
  /** Whether the suite runs: NOVACRON_REDIS_URL set, or NOVACRON_REQUIRE_INFRA=1. */
  run: boolean;
  url(): string;
}

export function redisInfra(): RedisInfra {
  const value = process.env['NOVACRON_REDIS_URL']?.trim() || undefined;
  return {
    run: value !== undefined || REQUIRE,
    url() {
      if (value === undefined) throw new Error('NOVACRON_REDIS_URL is not set but NOVACRON_REQUIRE_INFRA=1: start the services with eval "$(infra/local/up)"');
      return value;
    },
  };
}

/** A key prefix no other test (or run) uses: `test.<name>.<time><random>`. */
export const uniqueRedisPrefix = (name: string): string => `test.${name}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

/** Deletes every key under `<prefix>:`. */
export async function dropRedisPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/** The id of the connection named `name` (CLIENT SETNAME), for CLIENT KILL ID. */
export async function clientIdByName(client: Redis, name: string): Promise<string | undefined> {
  const list = (await client.client('LIST')) as string;
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.trim().split(' ').map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
    if (fields['name'] === name) return fields['id'];
  }
  return undefined;
}

/** Resolves once `condition()` holds (checked every 5 ms); throws `what` after `timeoutMs`. */
export async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves once `client` is connected (the cache's connections have no offline queue: commands before that fail). */
export const connectedClient = async <C extends { status: string }>(client: C): Promise<C> => {
  await eventually('the Redis connection is ready', () => client.status === 'ready');
  return client;
};
