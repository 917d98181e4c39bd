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

export interface RetryPolicy {
  /** Retries of a retriable failure before giving up. */
  maxRetries: number;
  /** Base and cap of the full-jitter exponential backoff, in ms. */
  backoff: { baseMs: number; capMs: number };
}

/**
 * Runs `work`; a retriable failure is reported to `onRetry` and tried again
 * after a full-jitter exponential backoff, at most `maxRetries` times and while
 * `keepTrying(error)` holds. Any other failure is thrown at once.
 */
export async function withBackoff<T>(
  work: () => T | Promise<T>,
  { maxRetries, backoff, keepTrying = () => true, onRetry }: RetryPolicy & { keepTrying?: (error: unknown) => boolean; onRetry?: (error: unknown) => void },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetriable(error) || attempt >= maxRetries || !keepTrying(error)) throw error;
      onRetry?.(error);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** attempt))));
    }
  }
}
