import type { Redis } from 'ioredis';
import { createRedisClient, createRedisInvalidationBus, redisTlsOptions, type RedisInvalidationBus } from '../projections/cache-invalidation/index.ts';
import { silentLog, type Log } from '../streams/kafka/index.ts';
import type { RedisSettings } from './config.ts';

/** The cache layer on Redis: one command connection, the invalidation bus on it (plus its subscriber), the L2's settings. */
export interface RedisCache {
  client: Redis;
  bus: RedisInvalidationBus;
  prefix: string;
  ttlSeconds: number;
  /** Where connection and bus messages go from now on (the app's logger once there is one). */
  useLog(log: Log): void;
  close(): Promise<void>;
}

/**
 * Opens the cache layer's Redis parts from the NOVACRON_REDIS_URL settings (`settings.url`
 * set). Nothing waits for Redis here: commands fail fast while it is
 * unreachable, and the caches fall back to the projections.
 */
export function openRedisCache(settings: RedisSettings, role: 'api' | 'processor', { name = `novacron:${role}` }: { name?: string } = {}): RedisCache {
  const { url, prefix, timeoutMs, cacheTtlSeconds, caPath } = settings;
  if (url === undefined) throw new TypeError('openRedisCache: NOVACRON_REDIS_URL is not set');
  let target: Log = silentLog;
  const log: Log = {
    info: (fields, message) => target.info({ component: 'redis-cache', ...fields }, message),
    warn: (fields, message) => target.warn({ component: 'redis-cache', ...fields }, message),
    error: (fields, message) => target.error({ component: 'redis-cache', ...fields }, message),
  };
  // Connection names (CLIENT LIST): `<name>` and `<name>:invalidations` (the subscriber).
  const tls = redisTlsOptions({ url, caPath });
  const client = createRedisClient(url, { timeoutMs, connectionName: name, log, ...(tls === undefined ? {} : { tls }) });
  const bus = createRedisInvalidationBus({ client, prefix, log, subscriberName: `${name}:invalidations`, connectWaitMs: Math.min(1000, 10 * timeoutMs) });
  let closed: Promise<void> | undefined;
  return {
    client,
    bus,
    prefix,
    ttlSeconds: cacheTtlSeconds,
    useLog(next) {
      target = next;
    },
    close: () =>
      (closed ??= (async () => {
        await bus.close();
        await client.quit().catch(() => client.disconnect());
      })()),
  };
}
