import { NovaCronError } from '../../streams/errors/index.ts';

export const HEARTBEAT_VARIABLE = 'NOVACRON_FEED_HEARTBEAT_MS';
export const DEFAULT_HEARTBEAT_MS = 15_000;
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 3_600_000;

export const MAX_PER_TENANT_VARIABLE = 'NOVACRON_FEED_MAX_PER_TENANT';
export const DEFAULT_MAX_PER_TENANT = 5;

export interface FeedSettings {
  /** NOVACRON_FEED_HEARTBEAT_MS: how often an open feed sends a `: ping` comment. */
  heartbeatMs: number;
  /** NOVACRON_FEED_MAX_PER_TENANT: most feeds one tenant may hold open on one API instance. */
  maxPerTenant: number;
}

/** Reads the event feed's settings (pure). Throws NC_CONFIG_INVALID naming the variable. */
export function loadFeedSettings(env: Record<string, string | undefined>): FeedSettings {
  return { heartbeatMs: heartbeat(env), maxPerTenant: maxPerTenant(env) };
}

function maxPerTenant(env: Record<string, string | undefined>): number {
  const value = env[MAX_PER_TENANT_VARIABLE]?.trim();
  if (value === undefined || value === '') return DEFAULT_MAX_PER_TENANT;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > 10_000) {
    throw new NovaCronError('NC_CONFIG_INVALID', `${MAX_PER_TENANT_VARIABLE} must be an integer from 1 to 10000; got ${JSON.stringify(value)}`, {
      details: { variable: MAX_PER_TENANT_VARIABLE },
    });
  }
  return parsed;
}

function heartbeat(env: Record<string, string | undefined>): number {
  const value = env[HEARTBEAT_VARIABLE]?.trim();
  if (value === undefined || value === '') return DEFAULT_HEARTBEAT_MS;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < MIN_HEARTBEAT_MS || parsed > MAX_HEARTBEAT_MS) {
    throw new NovaCronError('NC_CONFIG_INVALID', `${HEARTBEAT_VARIABLE} must be an integer from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}; got ${JSON.stringify(value)}`, {
      details: { variable: HEARTBEAT_VARIABLE },
    });
  }
  return parsed;
}
