import { resolve } from 'node:path';
import { NovaCronError } from '../streams/errors/index.ts';

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
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  return {
    dataDir: resolve(env.NOVACRON_DATA_DIR || './data'),
    sqliteSync: oneOf(env, 'NOVACRON_SQLITE_SYNC', ['full', 'normal'] as const, 'full'),
    masterKey: env.NOVACRON_MASTER_KEY === undefined || env.NOVACRON_MASTER_KEY === '' ? undefined : env.NOVACRON_MASTER_KEY,
  };
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const lower = value.toLowerCase();
  if ((allowed as readonly string[]).includes(lower)) return lower as T;
  throw new NovaCronError('NC_CONFIG_INVALID', `${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`, {
    details: { variable: name },
  });
}
