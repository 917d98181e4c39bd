import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, withoutCredentials } from './config.ts';
import { configRejection } from './testing/config-rejection.ts';

describe('loadConfig', () => {
  it('has defaults for every setting', () => {
    expect(loadConfig({})).toEqual({
      dataDir: resolve('./data'),
      sqliteSync: 'full',
      masterKey: undefined,
      masterKeyPrevious: undefined,
      host: '127.0.0.1',
      port: 8080,
      jwtSecret: undefined,
      logLevel: 'info',
      idempotencyTtlHours: 24,
      shutdownGraceMs: 10_000,
      httpTimeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 },
      reservationTimeoutMs: 30_000,
      sweepIntervalMs: 5_000,
      sessionWaitMs: 2_000,
      forecastIntervalMs: 60_000,
      routingLatencyMatrix: undefined,
      routingWeights: { distance: 0.1, latency: 0.4, cost: 0.25, load: 0.25 },
      routingMinHeadroom: 0.05,
      kafka: { brokers: undefined, schemaRegistryUrl: undefined, topicPrefix: 'novacron', partitions: 12, replication: 1, security: { ssl: false, caPath: undefined, sasl: null } },
      kafkaProcessors: [],
      kafkaSessionTimeoutMs: 6_000,
      redis: { url: undefined, prefix: 'novacron', timeoutMs: 250, cacheTtlSeconds: 300 },
      clickhouse: { url: undefined, database: 'novacron' },
      feed: { heartbeatMs: 15_000, maxPerTenant: 5 },
      rateLimit: { rate: 1_000, burst: 2_000 },
      tls: null,
      corsOrigins: [],
      jwt: { previousSecret: undefined, issuer: 'novacron', audience: 'novacron-api', maxTtlSeconds: 86_400, clockSkewSeconds: 30 },
      authCache: { size: 10_000, apiKeyTtlMs: 10_000 },
      authFailures: { burst: 20, perMinute: 10 },
    });
  });

  it('reads the saga and session settings, and rejects values out of range', () => {
    expect(loadConfig({ NOVACRON_RESERVATION_TIMEOUT_MS: '500', NOVACRON_SWEEP_INTERVAL_MS: '50', NOVACRON_SESSION_WAIT_MS: '0' })).toMatchObject({
      reservationTimeoutMs: 500,
      sweepIntervalMs: 50,
      sessionWaitMs: 0,
    });
    expect(() => loadConfig({ NOVACRON_RESERVATION_TIMEOUT_MS: '5' })).toThrow(/NOVACRON_RESERVATION_TIMEOUT_MS/);
    expect(() => loadConfig({ NOVACRON_SESSION_WAIT_MS: 'soon' })).toThrow(/NOVACRON_SESSION_WAIT_MS/);
  });

  it('reads the HTTP timeouts for slow clients, with bounded defaults, headers within the request', () => {
    expect(loadConfig({}).httpTimeouts).toEqual({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 });
    expect(
      loadConfig({ NOVACRON_HTTP_HEADERS_TIMEOUT_MS: '2000', NOVACRON_HTTP_REQUEST_TIMEOUT_MS: '2000', NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' }).httpTimeouts,
    ).toEqual({ headersMs: 2000, requestMs: 2000, keepAliveMs: 1000 });
    expect(() => loadConfig({ NOVACRON_HTTP_HEADERS_TIMEOUT_MS: '0' })).toThrow(/NOVACRON_HTTP_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ NOVACRON_HTTP_REQUEST_TIMEOUT_MS: 'never' })).toThrow(/NOVACRON_HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS: '999999999' })).toThrow(/NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS/);
    expect(() => loadConfig({ NOVACRON_HTTP_HEADERS_TIMEOUT_MS: '40000' })).toThrow(/NOVACRON_HTTP_HEADERS_TIMEOUT_MS .*must not exceed NOVACRON_HTTP_REQUEST_TIMEOUT_MS/);
  });

  it('reads each NOVACRON_* variable', () => {
    const config = loadConfig({
      NOVACRON_HOST: '0.0.0.0',
      NOVACRON_PORT: '0',
      NOVACRON_JWT_SECRET: 's'.repeat(32),
      NOVACRON_LOG_LEVEL: 'DEBUG',
      NOVACRON_IDEMPOTENCY_TTL_HOURS: '1.5',
    });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 0, jwtSecret: 's'.repeat(32), logLevel: 'debug', idempotencyTtlHours: 1.5 });
  });

  it.each([
    ['NOVACRON_PORT', '80a'],
    ['NOVACRON_PORT', '65536'],
    ['NOVACRON_PORT', '-1'],
    ['NOVACRON_HOST', 'my host'],
    ['NOVACRON_LOG_LEVEL', 'loud'],
    ['NOVACRON_IDEMPOTENCY_TTL_HOURS', '0'],
    ['NOVACRON_IDEMPOTENCY_TTL_HOURS', 'a day'],
    ['NOVACRON_JWT_SECRET', 'short'],
    ['NOVACRON_SQLITE_SYNC', 'sometimes'],
    ['NOVACRON_FORECAST_INTERVAL_MS', '999'],
    ['NOVACRON_FORECAST_INTERVAL_MS', 'hourly'],
    ['NOVACRON_MASTER_KEY_PREVIOUS', 'ab'.repeat(32)], // without NOVACRON_MASTER_KEY
  ])('rejects %s=%s with NC_CONFIG_INVALID naming the variable', (name, value) => {
    const caught = configRejection(() => loadConfig({ [name]: value }));
    expect(caught.message.startsWith(name)).toBe(true);
    expect(caught.details).toEqual({ variable: name });
    if (name === 'NOVACRON_JWT_SECRET' || name === 'NOVACRON_MASTER_KEY_PREVIOUS') expect(caught.message).not.toContain(value);
  });
});

describe('withoutCredentials', () => {
  it.each([
    ['esdb://admin:changeit@127.0.0.1:2113?tls=false', 'esdb://***@127.0.0.1:2113?tls=false'],
    ['kurrentdb+discover://u:p@cluster.example:2113', 'kurrentdb+discover://***@cluster.example:2113'],
    ['esdb://127.0.0.1:2113?tls=false', 'esdb://127.0.0.1:2113?tls=false'],
    ['redis://:secret@127.0.0.1:6379', 'redis://***@127.0.0.1:6379'],
  ])('%s → %s', (url, printed) => {
    expect(withoutCredentials(url)).toBe(printed);
  });
});

describe('the event feed setting', () => {
  it('is read and checked with the others', () => {
    expect(loadConfig({ NOVACRON_FEED_HEARTBEAT_MS: '250' }).feed).toEqual({ heartbeatMs: 250, maxPerTenant: 5 });
    expect(() => loadConfig({ NOVACRON_FEED_HEARTBEAT_MS: '5' })).toThrow(/NOVACRON_FEED_HEARTBEAT_MS/);
  });
});
