import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import type { Log } from '../../streams/kafka/index.ts';
import { silentLog } from '../../streams/kafka/index.ts';

export interface RedisClientOptions {
  /** Longest a command may take before it fails (the caller then falls back); also bounds connecting. */
  timeoutMs?: number;
  /** CLIENT SETNAME of the connection (seen in CLIENT LIST). */
  connectionName?: string;
  /** TLS options (a `rediss://` URL alone turns TLS on with the system CAs); see redisTlsOptions. */
  tls?: ConnectionOptions;
  log?: Log;
}

/** ioredis' `tls` for NOVACRON_REDIS_URL / NOVACRON_REDIS_CA: the CA file (read here) for a `rediss://` URL, nothing otherwise (rediss:// alone verifies against the system CAs). */
export function redisTlsOptions({ url, caPath }: { url: string; caPath: string | undefined }): ConnectionOptions | undefined {
  if (caPath === undefined) return undefined;
  if (!/^rediss:\/\//i.test(url)) throw new TypeError('redisTlsOptions: a CA is only used over TLS (a rediss:// URL)');
  return { ca: [readFileSync(caPath, 'utf8')] };
}

/**
 * A Redis connection for the cache layer, made to fail fast rather than to
 * wait: no offline queue (a command while disconnected fails at once), a
 * timeout on every command, one attempt per command. It reconnects in the
 * background (100 ms, 200 ms, … up to 2 s apart). Connection errors are
 * logged once per outage, not once per attempt.
 */
export function createRedisClient(url: string, { timeoutMs = 250, connectionName, tls, log = silentLog }: RedisClientOptions = {}): Redis {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError('createRedisClient: timeoutMs must be a positive integer');
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(1000, timeoutMs),
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    ...(connectionName === undefined ? {} : { connectionName }),
    ...(tls === undefined ? {} : { tls }),
  });
  watchConnection(client, log, connectionName ?? 'redis');
  return client;
}

/** Logs the first error of an outage and the recovery, and keeps ioredis from printing unhandled error events. */
export function watchConnection(client: Redis, log: Log, name: string): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ connection: name, err: error.message }, 'Redis unreachable: caches fall back to the projections until it is back');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ connection: name }, 'Redis reachable again');
  });
}
