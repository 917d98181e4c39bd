import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_HYBRID_WEIGHTS, DEFAULT_MIN_HEADROOM, type HybridWeights, type LatencyMatrix } from '../projections/routing/model/index.ts';
import { DEFAULT_REDIS_PREFIX, REDIS_PREFIX_PATTERN } from '../projections/cache-invalidation/redis-protocol.ts';
import { IDENTIFIER_PATTERN } from '../streams/clickhouse/escape.ts';
import { loadFeedSettings, type FeedSettings } from '../connectors/feed/settings.ts';
import { NovaCronError } from '../streams/errors/index.ts';
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER } from './auth/token-verifier.ts';
import { DEFAULT_PARTITIONS, DEFAULT_REPLICATION, DEFAULT_TOPIC_PREFIX, SASL_MECHANISMS, TOPIC_PREFIX_PATTERN, type KafkaSecurity, type KafkaSettings } from '../streams/kafka/settings.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Shortest NOVACRON_JWT_SECRET accepted: HS256 wants at least 256 bits of key. */
export const MIN_JWT_SECRET_LENGTH = 32;

/**
 * Every NOVACRON_* setting, read in one place, validated once at start with a
 * message naming the variable. The README lists each of them (a test checks).
 */
export interface Config {
  /** NOVACRON_DATA_DIR: where the embedded SQLite files, the master key and the JWT secret live. */
  dataDir: string;
  /** NOVACRON_SQLITE_SYNC: 'full' (fsync every group commit before acknowledging) or 'normal'. */
  sqliteSync: 'full' | 'normal';
  /** NOVACRON_MASTER_KEY: 32 bytes (hex or base64) wrapping the tenants' data keys; generated into the data dir when unset. */
  masterKey: string | undefined;
  /** NOVACRON_MASTER_KEY_PREVIOUS: master keys being rotated away from (comma-separated), only beside NOVACRON_MASTER_KEY. */
  masterKeyPrevious: string | undefined;
  /** NOVACRON_HOST: interface the HTTP API listens on. */
  host: string;
  /** NOVACRON_PORT: TCP port of the HTTP API; 0 picks a free one. */
  port: number;
  /** NOVACRON_JWT_SECRET: HS256 secret of the JWTs; generated into `<dataDir>/jwt.secret` when unset. */
  jwtSecret: string | undefined;
  /** NOVACRON_JWT_PREVIOUS_SECRET, NOVACRON_JWT_ISSUER, NOVACRON_JWT_AUDIENCE, NOVACRON_JWT_MAX_TTL_SECONDS, NOVACRON_JWT_CLOCK_SKEW_SECONDS. */
  jwt: JwtSettings;
  /** NOVACRON_AUTH_CACHE_SIZE verified credentials kept; an API key's entry at most NOVACRON_AUTH_CACHE_API_KEY_MS. */
  authCache: { size: number; apiKeyTtlMs: number };
  /** Failed authentications per address and per API key: NOVACRON_AUTH_FAILURE_BURST at once, then NOVACRON_AUTH_FAILURE_PER_MINUTE (0: unlimited). */
  authFailures: { burst: number; perMinute: number };
  /** NOVACRON_LOG_LEVEL: pino level of the JSON logs. */
  logLevel: LogLevel;
  /** NOVACRON_IDEMPOTENCY_TTL_HOURS: how long an Idempotency-Key's answer is kept. */
  idempotencyTtlHours: number;
  /** NOVACRON_SHUTDOWN_GRACE_MS: how long a graceful shutdown waits for open requests before it cuts their connections. */
  shutdownGraceMs: number;
  /** NOVACRON_HTTP_HEADERS_TIMEOUT_MS, NOVACRON_HTTP_REQUEST_TIMEOUT_MS, NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS: how long a client may take to send its request. */
  httpTimeouts: HttpTimeouts;
  /** NOVACRON_RESERVATION_TIMEOUT_MS: how long a quota/capacity reservation waits for its VM before the sweeper settles it. */
  reservationTimeoutMs: number;
  /** NOVACRON_SWEEP_INTERVAL_MS: how often the reservation sweeper runs. */
  sweepIntervalMs: number;
  /** NOVACRON_SESSION_WAIT_MS: longest a consistency=session query waits for the projection to apply the client's write. */
  sessionWaitMs: number;
  /** NOVACRON_FORECAST_INTERVAL_MS: how often the shortfall watcher forecasts every region's capacity. */
  forecastIntervalMs: number;
  /** NOVACRON_ROUTING_LATENCY_MATRIX: JSON file of measured RTTs in ms, `{ "<regionId>": { "<regionId or cell id>": ms } }`; read by `loadLatencyMatrix` at start. */
  routingLatencyMatrix: string | undefined;
  /** NOVACRON_ROUTING_WEIGHTS: weights of the hybrid routing strategy's components. */
  routingWeights: HybridWeights;
  /** NOVACRON_ROUTING_MIN_HEADROOM: least free share of a region's vCPUs for it to take traffic. */
  routingMinHeadroom: number;
  /** NOVACRON_KAFKA_BROKERS, NOVACRON_SCHEMA_REGISTRY_URL, NOVACRON_KAFKA_TOPIC_PREFIX, NOVACRON_KAFKA_PARTITIONS, NOVACRON_KAFKA_REPLICATION. */
  kafka: KafkaSettings;
  /** NOVACRON_KAFKA_PROCESSORS: projections fed from Kafka by `--role processor` instances; the API reads them and does not run their processors. */
  kafkaProcessors: string[];
  /** NOVACRON_KAFKA_SESSION_TIMEOUT_MS: how long a processor that died keeps its partitions before its group moves them (and before a restarted group resumes). */
  kafkaSessionTimeoutMs: number;
  /** NOVACRON_ESDB_URL: EventStoreDB / KurrentDB connection string; when set, the event store is there instead of `<dataDir>/events.db`. */
  esdbUrl: string | undefined;
  /** NOVACRON_CLICKHOUSE_URL, NOVACRON_CLICKHOUSE_DATABASE: the analytics projection's ClickHouse (projections/analytics). */
  clickhouse: ClickHouseSettings;
  /** NOVACRON_REDIS_URL, NOVACRON_REDIS_PREFIX, NOVACRON_REDIS_TIMEOUT_MS, NOVACRON_CACHE_L2_TTL_SECONDS: the cache layer's scale-out. */
  redis: RedisSettings;
  /** The event feed (GET /v1/events): NOVACRON_FEED_HEARTBEAT_MS. */
  feed: FeedSettings;
  /** NOVACRON_TLS_CERT, NOVACRON_TLS_KEY, NOVACRON_TLS_CA, NOVACRON_TLS_CLIENT_CERTS, NOVACRON_HTTP2: HTTPS for the API; null: plain HTTP. */
  tls: TlsSettings | null;
  /** NOVACRON_CORS_ORIGINS: browser origins allowed to call the API (none by default). */
  corsOrigins: string[];
  /** A token bucket per tenant, operator or address: NOVACRON_RATE_LIMIT_RATE requests/s, bursts of NOVACRON_RATE_LIMIT_BURST (rate 0: off). */
  rateLimit: { rate: number; burst: number };
}

export interface TlsSettings {
  /** NOVACRON_TLS_CERT: PEM certificate (chain) file of the API. */
  certPath: string;
  /** NOVACRON_TLS_KEY: PEM private key file of the API. */
  keyPath: string;
  /** NOVACRON_TLS_CA: PEM CA file that signs operators' client certificates. */
  caPath: string | undefined;
  /** NOVACRON_TLS_CLIENT_CERTS: `none`, `optional` (a valid one authenticates an operator) or `required` (no connection without one). */
  clientCerts: 'none' | 'optional' | 'required';
  /** NOVACRON_HTTP2: HTTP/2 (with HTTP/1.1 for clients that do not offer h2) on the TLS port. */
  http2: boolean;
}

export interface JwtSettings {
  /** NOVACRON_JWT_PREVIOUS_SECRET: the secret before the last rotation; tokens naming its kid still verify until they expire. */
  previousSecret: string | undefined;
  /** NOVACRON_JWT_ISSUER: the `iss` a token must carry. */
  issuer: string;
  /** NOVACRON_JWT_AUDIENCE: the `aud` a token must carry. */
  audience: string;
  /** NOVACRON_JWT_MAX_TTL_SECONDS: longest token lifetime accepted (exp − iat, and exp − now). */
  maxTtlSeconds: number;
  /** NOVACRON_JWT_CLOCK_SKEW_SECONDS: tolerance on exp / nbf / iat. */
  clockSkewSeconds: number;
}

export interface RedisSettings {
  /** NOVACRON_REDIS_URL: when set, cache invalidations travel on Redis pub/sub and query results are also cached there (L2). */
  url: string | undefined;
  /** NOVACRON_REDIS_PREFIX: the channel is `<prefix>.invalidations`, the L2 keys `<prefix>:l2:…`. */
  prefix: string;
  /** NOVACRON_REDIS_TIMEOUT_MS: longest a Redis command of the cache may take before the query goes on without it. */
  timeoutMs: number;
  /** NOVACRON_CACHE_L2_TTL_SECONDS: how long an L2 entry lives when no invalidation evicts it. */
  cacheTtlSeconds: number;
  /** NOVACRON_REDIS_CA: a PEM CA file to verify a rediss:// server with (unset: the system CAs). */
  caPath: string | undefined;
}

export interface ClickHouseSettings {
  /** NOVACRON_CLICKHOUSE_URL: `http(s)://[user:password@]host:port`; when set, the analytics projection runs and writes there. */
  url: string | undefined;
  /** NOVACRON_CLICKHOUSE_DATABASE: the database of the analytics tables (created when missing). */
  database: string;
  /** NOVACRON_CLICKHOUSE_CA: a PEM CA file to verify an https:// server with (unset: the system CAs). */
  caPath: string | undefined;
}

type Env = Record<string, string | undefined>;

/** Reads the settings from `env` (pure: no file or network access). Throws NC_CONFIG_INVALID naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  return {
    dataDir: resolve(env.NOVACRON_DATA_DIR || './data'),
    sqliteSync: oneOf(env, 'NOVACRON_SQLITE_SYNC', ['full', 'normal'] as const, 'full'),
    masterKey: optional(env, 'NOVACRON_MASTER_KEY'),
    masterKeyPrevious: masterKeyPrevious(env),
    host: host(env, 'NOVACRON_HOST', '127.0.0.1'),
    port: integer(env, 'NOVACRON_PORT', { min: 0, max: 65_535 }, 8080),
    jwtSecret: jwtSecret(env, 'NOVACRON_JWT_SECRET'),
    jwt: {
      previousSecret: jwtSecret(env, 'NOVACRON_JWT_PREVIOUS_SECRET'),
      issuer: claimValue(env, 'NOVACRON_JWT_ISSUER', DEFAULT_JWT_ISSUER),
      audience: claimValue(env, 'NOVACRON_JWT_AUDIENCE', DEFAULT_JWT_AUDIENCE),
      maxTtlSeconds: integer(env, 'NOVACRON_JWT_MAX_TTL_SECONDS', { min: 60, max: 31_622_400 }, 86_400),
      clockSkewSeconds: integer(env, 'NOVACRON_JWT_CLOCK_SKEW_SECONDS', { min: 0, max: 600 }, 30),
    },
    authCache: {
      size: integer(env, 'NOVACRON_AUTH_CACHE_SIZE', { min: 0, max: 10_000_000 }, 10_000),
      apiKeyTtlMs: integer(env, 'NOVACRON_AUTH_CACHE_API_KEY_MS', { min: 0, max: 3_600_000 }, 10_000),
    },
    authFailures: {
      burst: integer(env, 'NOVACRON_AUTH_FAILURE_BURST', { min: 1, max: 1_000_000 }, 20),
      perMinute: integer(env, 'NOVACRON_AUTH_FAILURE_PER_MINUTE', { min: 0, max: 1_000_000 }, 10),
    },
    logLevel: oneOf(env, 'NOVACRON_LOG_LEVEL', LOG_LEVELS, 'info'),
    idempotencyTtlHours: positiveNumber(env, 'NOVACRON_IDEMPOTENCY_TTL_HOURS', { max: 24 * 366 }, 24),
    shutdownGraceMs: integer(env, 'NOVACRON_SHUTDOWN_GRACE_MS', { min: 0, max: 600_000 }, 10_000),
    httpTimeouts: httpTimeouts(env),
    reservationTimeoutMs: integer(env, 'NOVACRON_RESERVATION_TIMEOUT_MS', { min: 100, max: 86_400_000 }, 30_000),
    sweepIntervalMs: integer(env, 'NOVACRON_SWEEP_INTERVAL_MS', { min: 10, max: 3_600_000 }, 5_000),
    sessionWaitMs: integer(env, 'NOVACRON_SESSION_WAIT_MS', { min: 0, max: 60_000 }, 2_000),
    forecastIntervalMs: integer(env, 'NOVACRON_FORECAST_INTERVAL_MS', { min: 1_000, max: 86_400_000 }, 60_000),
    routingLatencyMatrix: optionalPath(env, 'NOVACRON_ROUTING_LATENCY_MATRIX'),
    routingWeights: hybridWeights(env, 'NOVACRON_ROUTING_WEIGHTS', DEFAULT_HYBRID_WEIGHTS),
    routingMinHeadroom: fraction(env, 'NOVACRON_ROUTING_MIN_HEADROOM', DEFAULT_MIN_HEADROOM),
    kafka: kafkaSettings(env),
    kafkaProcessors: kafkaProcessors(env, 'NOVACRON_KAFKA_PROCESSORS'),
    kafkaSessionTimeoutMs: integer(env, 'NOVACRON_KAFKA_SESSION_TIMEOUT_MS', { min: 1_000, max: 300_000 }, 6_000),
    esdbUrl: esdbUrl(env, 'NOVACRON_ESDB_URL'),
    clickhouse: clickhouseSettings(env),
    redis: redisSettings(env),
    feed: loadFeedSettings(env),
    tls: tlsSettings(env),
    corsOrigins: corsOrigins(env, 'NOVACRON_CORS_ORIGINS'),
    rateLimit: {
      rate: integer(env, 'NOVACRON_RATE_LIMIT_RATE', { min: 0, max: 1_000_000_000 }, 1_000),
      burst: integer(env, 'NOVACRON_RATE_LIMIT_BURST', { min: 1, max: 1_000_000_000 }, 2_000),
    },
  };
}

function redisSettings(env: Env): RedisSettings {
  const prefix = optional(env, 'NOVACRON_REDIS_PREFIX') ?? DEFAULT_REDIS_PREFIX;
  if (!REDIS_PREFIX_PATTERN.test(prefix)) throw invalid('NOVACRON_REDIS_PREFIX', `must be 1 to 100 of the characters A-Za-z0-9._:-; got ${JSON.stringify(prefix)}`);
  const url = redisUrl(env, 'NOVACRON_REDIS_URL');
  const caPath = optionalPath(env, 'NOVACRON_REDIS_CA');
  if (caPath !== undefined && !url?.toLowerCase().startsWith('rediss://')) {
    throw invalid('NOVACRON_REDIS_CA', 'is set, but NOVACRON_REDIS_URL is not a rediss:// URL: a CA is only used over TLS');
  }
  return {
    url,
    caPath,
    prefix,
    timeoutMs: integer(env, 'NOVACRON_REDIS_TIMEOUT_MS', { min: 10, max: 60_000 }, 250),
    cacheTtlSeconds: integer(env, 'NOVACRON_CACHE_L2_TTL_SECONDS', { min: 1, max: 604_800 }, 300),
  };
}

/** An optional URL setting: its trimmed value (undefined when unset or blank) and the URL it parses to (undefined when it does not). */
function urlSetting(env: Env, name: string): { value: string | undefined; url: URL | undefined } {
  const value = optional(env, name)?.trim();
  if (value === undefined || value === '') return { value: undefined, url: undefined };
  try {
    return { value, url: new URL(value) };
  } catch {
    return { value, url: undefined };
  }
}

/** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). */
function redisUrl(env: Env, name: string): string | undefined {
  const { value, url } = urlSetting(env, name);
  if (value === undefined) return undefined;
  const db = url?.pathname.replace(/^\//, '') ?? '';
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '' || !/^\d{0,2}$/.test(db) || url.hash !== '') {
    // The value may hold a password: name the expected shape, not the value.
    throw invalid(name, 'must be a Redis URL such as redis://127.0.0.1:6379, redis://:password@cache:6379/0 or rediss://cache:6380 (TLS)');
  }
  return value;
}

function clickhouseSettings(env: Env): ClickHouseSettings {
  const database = optional(env, 'NOVACRON_CLICKHOUSE_DATABASE') ?? 'novacron';
  if (!IDENTIFIER_PATTERN.test(database)) {
    throw invalid('NOVACRON_CLICKHOUSE_DATABASE', `must be 1 to 64 letters, digits and _, not starting with a digit; got ${JSON.stringify(database)}`);
  }
  const url = clickhouseUrl(env, 'NOVACRON_CLICKHOUSE_URL');
  const caPath = optionalPath(env, 'NOVACRON_CLICKHOUSE_CA');
  if (caPath !== undefined && !url?.toLowerCase().startsWith('https://')) {
    throw invalid('NOVACRON_CLICKHOUSE_CA', 'is set, but NOVACRON_CLICKHOUSE_URL is not an https:// URL: a CA is only used over TLS');
  }
  return { url, database, caPath };
}

/** `http(s)://[user:password@]host:port`: no path (the database is NOVACRON_CLICKHOUSE_DATABASE), no query. */
function clickhouseUrl(env: Env, name: string): string | undefined {
  const { value, url } = urlSetting(env, name);
  if (value === undefined) return undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || !['', '/'].includes(url.pathname) || url.search !== '' || url.hash !== '') {
    // The value may hold a password: name the expected shape, not the value.
    throw invalid(name, 'must be a ClickHouse HTTP URL such as http://127.0.0.1:8123 or https://user:password@clickhouse:8443 (no path: the database is NOVACRON_CLICKHOUSE_DATABASE)');
  }
  return value.replace(/\/+$/, '');
}

/** `esdb://host:2113?tls=false`, `kurrentdb://…`, or their `+discover` forms for a cluster. */
function esdbUrl(env: Env, name: string): string | undefined {
  const value = optional(env, name)?.trim();
  if (value === undefined || value === '') return undefined;
  if (!/^(esdb|kurrentdb|kurrent|kdb)(\+discover)?:\/\/[^\s/?#]+(\/)?(\?\S*)?$/i.test(value)) {
    // The value may hold a password: name the expected shape, not the value.
    throw invalid(name, 'must be an EventStoreDB / KurrentDB connection string such as esdb://127.0.0.1:2113?tls=false or kurrentdb+discover://node1:2113,node2:2113');
  }
  return value;
}

function kafkaSettings(env: Env): KafkaSettings {
  const brokers = brokerList(env, 'NOVACRON_KAFKA_BROKERS');
  const schemaRegistryUrl = httpUrl(env, 'NOVACRON_SCHEMA_REGISTRY_URL');
  if (brokers !== undefined && schemaRegistryUrl === undefined) {
    throw invalid('NOVACRON_SCHEMA_REGISTRY_URL', 'must be set when NOVACRON_KAFKA_BROKERS is: events travel on Kafka in Avro with their schemas in the registry');
  }
  const topicPrefix = optional(env, 'NOVACRON_KAFKA_TOPIC_PREFIX') ?? DEFAULT_TOPIC_PREFIX;
  if (!TOPIC_PREFIX_PATTERN.test(topicPrefix)) {
    throw invalid('NOVACRON_KAFKA_TOPIC_PREFIX', `must be 1 to 200 of the characters Kafka allows in topic names (A-Za-z0-9._-); got ${JSON.stringify(topicPrefix)}`);
  }
  return {
    brokers,
    schemaRegistryUrl,
    topicPrefix,
    partitions: integer(env, 'NOVACRON_KAFKA_PARTITIONS', { min: 1, max: 10_000 }, DEFAULT_PARTITIONS),
    replication: integer(env, 'NOVACRON_KAFKA_REPLICATION', { min: 1, max: 32 }, DEFAULT_REPLICATION),
    security: kafkaSecurity(env),
  };
}

function kafkaSecurity(env: Env): KafkaSecurity {
  const caPath = optionalPath(env, 'NOVACRON_KAFKA_CA');
  const ssl = oneOf(env, 'NOVACRON_KAFKA_SSL', ['on', 'off'] as const, caPath === undefined ? 'off' : 'on') === 'on';
  if (!ssl && caPath !== undefined) throw invalid('NOVACRON_KAFKA_SSL', 'is off, but NOVACRON_KAFKA_CA is set: a CA is only used over TLS');
  const mechanism = optional(env, 'NOVACRON_KAFKA_SASL_MECHANISM') === undefined ? undefined : oneOf(env, 'NOVACRON_KAFKA_SASL_MECHANISM', SASL_MECHANISMS, 'plain');
  const username = optional(env, 'NOVACRON_KAFKA_SASL_USERNAME');
  const password = optional(env, 'NOVACRON_KAFKA_SASL_PASSWORD');
  if (mechanism === undefined) {
    if (username !== undefined || password !== undefined) throw invalid('NOVACRON_KAFKA_SASL_MECHANISM', 'must be set (plain, scram-sha-256 or scram-sha-512) with NOVACRON_KAFKA_SASL_USERNAME / NOVACRON_KAFKA_SASL_PASSWORD');
    return { ssl, caPath, sasl: null };
  }
  // The password is a secret: never echo it.
  if (username === undefined || password === undefined) throw invalid('NOVACRON_KAFKA_SASL_MECHANISM', `is ${mechanism}: it needs NOVACRON_KAFKA_SASL_USERNAME and NOVACRON_KAFKA_SASL_PASSWORD`);
  return { ssl, caPath, sasl: { mechanism, username, password } };
}

/** Projections the API may read from processors fed by Kafka (the inventory's query cache is invalidated in process: not yet). */
export const KAFKA_FED_PROJECTIONS = ['shard-map', 'routing-table', 'capacity-forecast'] as const;

function kafkaProcessors(env: Env, name: string): string[] {
  const value = optional(env, name);
  if (value === undefined) return [];
  const names = [...new Set(value.split(',').map((n) => n.trim()).filter((n) => n !== ''))];
  const bad = names.filter((n) => !(KAFKA_FED_PROJECTIONS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    throw invalid(
      name,
      `must be a comma-separated list of ${KAFKA_FED_PROJECTIONS.join(', ')} (the inventory stays in the API's process: its query cache is invalidated by in-process commits); got ${JSON.stringify(value)}`,
    );
  }
  if (optional(env, 'NOVACRON_KAFKA_BROKERS') === undefined) throw invalid(name, 'needs NOVACRON_KAFKA_BROKERS and NOVACRON_SCHEMA_REGISTRY_URL: those projections are fed from Kafka');
  return names;
}

/** `host:port,host:port`. */
function brokerList(env: Env, name: string): string[] | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  const brokers = value.split(',').map((b) => b.trim()).filter((b) => b !== '');
  const bad = brokers.find((b) => !/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(b) || Number(b.slice(b.lastIndexOf(':') + 1)) > 65_535);
  if (brokers.length === 0 || bad !== undefined) {
    throw invalid(name, `must be a comma-separated list of host:port (e.g. 127.0.0.1:9092,kafka-2:9092); got ${JSON.stringify(value)}`);
  }
  return brokers;
}

function httpUrl(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw invalid(name, `must be an http(s) URL such as http://127.0.0.1:8081 or http://127.0.0.1:8081/apis/ccompat/v7; got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/** The gateway's limits on slow clients (see httpTimeouts). */
export interface HttpTimeouts {
  /** NOVACRON_HTTP_HEADERS_TIMEOUT_MS: the whole header block must arrive within this, from the request's first byte. */
  headersMs: number;
  /** NOVACRON_HTTP_REQUEST_TIMEOUT_MS: the whole request, headers and body, must arrive within this. */
  requestMs: number;
  /** NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after this. */
  keepAliveMs: number;
}

/** A client that stops sending in its headers or body gets 408 NC_REQUEST_TIMEOUT, and its connection is closed. */
function httpTimeouts(env: Env): HttpTimeouts {
  const headersMs = integer(env, 'NOVACRON_HTTP_HEADERS_TIMEOUT_MS', { min: 100, max: 600_000 }, 10_000);
  const requestMs = integer(env, 'NOVACRON_HTTP_REQUEST_TIMEOUT_MS', { min: 100, max: 3_600_000 }, 30_000);
  const keepAliveMs = integer(env, 'NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS', { min: 100, max: 600_000 }, 5_000);
  if (headersMs > requestMs) {
    throw invalid('NOVACRON_HTTP_HEADERS_TIMEOUT_MS', `(${headersMs}) must not exceed NOVACRON_HTTP_REQUEST_TIMEOUT_MS (${requestMs}): the headers are part of the request`);
  }
  return { headersMs, requestMs, keepAliveMs };
}

function invalid(name: string, message: string): NovaCronError {
  return new NovaCronError('NC_CONFIG_INVALID', `${name} ${message}`, { details: { variable: name } });
}

/** Keys being rotated away from name themselves beside the current one; with master.key the file holds both. */
function masterKeyPrevious(env: Env): string | undefined {
  const value = optional(env, 'NOVACRON_MASTER_KEY_PREVIOUS');
  if (value !== undefined && optional(env, 'NOVACRON_MASTER_KEY') === undefined) {
    throw invalid('NOVACRON_MASTER_KEY_PREVIOUS', 'is only read beside NOVACRON_MASTER_KEY (with <dataDir>/master.key, `novacron keys rotate-master` keeps the old key in the file while it rotates)');
  }
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  const match = allowed.find((candidate) => candidate === lower);
  if (match !== undefined) return match;
  throw invalid(name, `must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
}

function integer(env: Env, name: string, { min, max }: { min: number; max: number }, fallback: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw invalid(name, `must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function positiveNumber(env: Env, name: string, { max }: { max: number }, fallback: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const parsed = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(parsed > 0 && parsed <= max)) {
    throw invalid(name, `must be a number of hours above 0 and at most ${max}; got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function host(env: Env, name: string, fallback: string): string {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (!/^[A-Za-z0-9.:\-[\]%]+$/.test(value)) {
    throw invalid(name, `must be a host name or an IP address such as 127.0.0.1, 0.0.0.0 or ::; got ${JSON.stringify(value)}`);
  }
  return value;
}

function jwtSecret(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value !== undefined && value.length < MIN_JWT_SECRET_LENGTH) {
    // The value itself is a secret: never echo it.
    throw invalid(name, `must be at least ${MIN_JWT_SECRET_LENGTH} characters long (got ${value.length}); leave it unset to use a generated <dataDir>/jwt.secret`);
  }
  return value;
}

function tlsSettings(env: Env): TlsSettings | null {
  const certPath = optionalPath(env, 'NOVACRON_TLS_CERT');
  const keyPath = optionalPath(env, 'NOVACRON_TLS_KEY');
  const caPath = optionalPath(env, 'NOVACRON_TLS_CA');
  const clientCerts = oneOf(env, 'NOVACRON_TLS_CLIENT_CERTS', ['none', 'optional', 'required'] as const, 'none');
  const http2 = oneOf(env, 'NOVACRON_HTTP2', ['on', 'off'] as const, 'on') === 'on';
  if (certPath === undefined && keyPath === undefined) {
    for (const name of ['NOVACRON_TLS_CA', 'NOVACRON_TLS_CLIENT_CERTS'] as const) {
      if (optional(env, name) !== undefined) throw invalid(name, 'needs NOVACRON_TLS_CERT and NOVACRON_TLS_KEY: client certificates are a TLS feature');
    }
    return null;
  }
  if (certPath === undefined) throw invalid('NOVACRON_TLS_CERT', 'must be set with NOVACRON_TLS_KEY (both PEM files)');
  if (keyPath === undefined) throw invalid('NOVACRON_TLS_KEY', 'must be set with NOVACRON_TLS_CERT (both PEM files)');
  if (clientCerts !== 'none' && caPath === undefined) throw invalid('NOVACRON_TLS_CLIENT_CERTS', `is ${clientCerts}: it needs NOVACRON_TLS_CA, the CA that signs the operators' certificates`);
  return { certPath, keyPath, caPath, clientCerts, http2 };
}

/** `https://console.example.com,http://localhost:5173`: exact origins, no paths, no wildcards. */
function corsOrigins(env: Env, name: string): string[] {
  const value = optional(env, name);
  if (value === undefined) return [];
  const origins = [...new Set(value.split(',').map((o) => o.trim()).filter((o) => o !== ''))];
  for (const origin of origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      throw invalid(name, `must be a comma-separated list of origins such as https://console.example.com or http://localhost:5173 (scheme, host and port only); got ${JSON.stringify(origin)}`);
    }
  }
  return origins;
}

/** An `iss` / `aud` value: printable, no spaces, at most 200 characters. */
function claimValue(env: Env, name: string, fallback: string): string {
  const value = optional(env, name)?.trim();
  if (value === undefined || value === '') return fallback;
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) throw invalid(name, `must be 1 to 200 printable characters without spaces (a JWT claim value); got ${JSON.stringify(value)}`);
  return value;
}

function optionalPath(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  return value === undefined ? undefined : resolve(value);
}

const HYBRID_COMPONENTS = ['distance', 'latency', 'cost', 'load'] as const;

/** `distance=0.1,latency=0.4,cost=0.25,load=0.25`: components left out weigh 0; the weights are scaled to sum 1 when used. */
function hybridWeights(env: Env, name: string, fallback: HybridWeights): HybridWeights {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const weights = { distance: 0, latency: 0, cost: 0, load: 0 };
  const seen = new Set<string>();
  for (const part of value.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    const component = HYBRID_COMPONENTS.find((c) => c === match?.[1]);
    if (!match || component === undefined || seen.has(component)) {
      throw invalid(name, `must be a comma-separated list of <component>=<weight ≥ 0>, each of ${HYBRID_COMPONENTS.join(', ')} at most once (e.g. distance=0.1,latency=0.4,cost=0.25,load=0.25); got ${JSON.stringify(value)}`);
    }
    seen.add(component);
    weights[component] = Number(match[2]);
  }
  const total = weights.distance + weights.latency + weights.cost + weights.load;
  if (!(total > 0 && Number.isFinite(total))) throw invalid(name, `needs at least one weight above 0; got ${JSON.stringify(value)}`);
  return weights;
}

function fraction(env: Env, name: string, fallback: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const parsed = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(parsed >= 0 && parsed <= 1)) throw invalid(name, `must be a number from 0 to 1 (a share of a region's vCPUs); got ${JSON.stringify(value)}`);
  return parsed;
}

/**
 * Reads and checks the latency matrix NOVACRON_ROUTING_LATENCY_MATRIX names
 * (`config.routingLatencyMatrix`): a JSON object of objects of round-trip
 * times in ms (finite, ≥ 0). undefined when the setting is unset. Throws
 * NC_CONFIG_INVALID naming the variable.
 */
export function loadLatencyMatrix(path: string | undefined): LatencyMatrix | undefined {
  const name = 'NOVACRON_ROUTING_LATENCY_MATRIX';
  if (path === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? `is not valid JSON (${error.message})` : `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    throw invalid(name, `names ${path}, which ${reason}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(parsed)) throw invalid(name, `names ${path}, which must hold a JSON object { "<regionId>": { "<regionId or cell id>": <ms> } }`);
  const matrix: Record<string, Record<string, number>> = Object.create(null) as Record<string, Record<string, number>>;
  for (const [from, row] of Object.entries(parsed)) {
    if (!isObject(row)) throw invalid(name, `names ${path}, whose entry ${JSON.stringify(from)} must be an object of round-trip times in ms`);
    const entries: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [to, ms] of Object.entries(row)) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw invalid(name, `names ${path}, whose entry ${JSON.stringify(from)} → ${JSON.stringify(to)} must be a number of ms ≥ 0; got ${JSON.stringify(ms)}`);
      }
      entries[to] = ms;
    }
    matrix[from] = entries;
  }
  return matrix;
}

/** A connection string fit to print: its user and password replaced by `***`. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');
}
