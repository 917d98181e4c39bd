import { NovaCronError } from '../../streams/errors/index.ts';

export const HEARTBEAT_VARIABLE = 'NOVACRON_FEED_HEARTBEAT_MS';
export const DEFAULT_HEARTBEAT_MS = 15_000;
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 3_600_000;

export interface FeedSettings {
  /** NOVACRON_FEED_HEARTBEAT_MS: how often an open feed sends a `: ping` comment. */
  heartbeatMs: number;
}

/** Reads the event feed's settings (pure). Throws NC_CONFIG_INVALID naming the variable. */
export function loadFeedSettings(env: Record<string, string | undefined>): FeedSettings {
  const value = env[HEARTBEAT_VARIABLE]?.trim();
  if (value === undefined || value === '') return { heartbeatMs: DEFAULT_HEARTBEAT_MS };
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < MIN_HEARTBEAT_MS || parsed > MAX_HEARTBEAT_MS) {
    throw new NovaCronError('NC_CONFIG_INVALID', `${HEARTBEAT_VARIABLE} must be an integer from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}; got ${JSON.stringify(value)}`, {
      details: { variable: HEARTBEAT_VARIABLE },
    });
  }
  return { heartbeatMs: parsed };
}
