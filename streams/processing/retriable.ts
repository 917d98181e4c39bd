import { NovaCronError } from '../errors/index.ts';

const SQLITE_TRANSIENT = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_IOERR']);
const NETWORK_TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/**
 * Whether trying again later may succeed: infrastructure hiccups, never
 * programming errors (TypeError, RangeError) or bad data.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) return false;
  if (error instanceof NovaCronError) return error.retriable;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (SQLITE_TRANSIENT.has(code) || NETWORK_TRANSIENT.has(code))) return true;
  return (error as { retriable?: unknown } | null)?.retriable === true;
}
