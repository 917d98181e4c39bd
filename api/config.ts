import { resolve } from 'node:path';
import { NovaCronError } from '../streams/errors/index.ts';

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
  /** NOVACRON_HOST: interface the HTTP API listens on. */
  host: string;
  /** NOVACRON_PORT: TCP port of the HTTP API; 0 picks a free one. */
  port: number;
  /** NOVACRON_JWT_SECRET: HS256 secret of the JWTs; generated into `<dataDir>/jwt.secret` when unset. */
  jwtSecret: string | undefined;
  /** NOVACRON_LOG_LEVEL: pino level of the JSON logs. */
  logLevel: LogLevel;
  /** NOVACRON_IDEMPOTENCY_TTL_HOURS: how long an Idempotency-Key's answer is kept. */
  idempotencyTtlHours: number;
  /** NOVACRON_RESERVATION_TIMEOUT_MS: how long a quota/capacity reservation waits for its VM before the sweeper settles it. */
  reservationTimeoutMs: number;
  /** NOVACRON_SWEEP_INTERVAL_MS: how often the reservation sweeper runs. */
  sweepIntervalMs: number;
  /** NOVACRON_SESSION_WAIT_MS: longest a consistency=session query waits for the projection to apply the client's write. */
  sessionWaitMs: number;
}

type Env = Record<string, string | undefined>;

/** Reads the settings from `env` (pure: no file or network access). Throws NC_CONFIG_INVALID naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  return {
    dataDir: resolve(env.NOVACRON_DATA_DIR || './data'),
    sqliteSync: oneOf(env, 'NOVACRON_SQLITE_SYNC', ['full', 'normal'] as const, 'full'),
    masterKey: optional(env, 'NOVACRON_MASTER_KEY'),
    host: host(env, 'NOVACRON_HOST', '127.0.0.1'),
    port: integer(env, 'NOVACRON_PORT', { min: 0, max: 65_535 }, 8080),
    jwtSecret: jwtSecret(env, 'NOVACRON_JWT_SECRET'),
    logLevel: oneOf(env, 'NOVACRON_LOG_LEVEL', LOG_LEVELS, 'info'),
    idempotencyTtlHours: positiveNumber(env, 'NOVACRON_IDEMPOTENCY_TTL_HOURS', { max: 24 * 366 }, 24),
    reservationTimeoutMs: integer(env, 'NOVACRON_RESERVATION_TIMEOUT_MS', { min: 100, max: 86_400_000 }, 30_000),
    sweepIntervalMs: integer(env, 'NOVACRON_SWEEP_INTERVAL_MS', { min: 10, max: 3_600_000 }, 5_000),
    sessionWaitMs: integer(env, 'NOVACRON_SESSION_WAIT_MS', { min: 0, max: 60_000 }, 2_000),
  };
}

function invalid(name: string, message: string): NovaCronError {
  return new NovaCronError('NC_CONFIG_INVALID', `${name} ${message}`, { details: { variable: name } });
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
