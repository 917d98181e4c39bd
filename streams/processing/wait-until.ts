/**
 * Resolves true as soon as `reached()` holds, checking at once and then every
 * `intervalMs`; false after `timeoutMs`. For conditions another process makes
 * true (a processor committing to a SQLite file this process reads), where
 * there is nothing to be notified by but the file itself.
 */
export function waitUntil(reached: () => boolean, { timeoutMs, intervalMs = 10, signal }: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal }): Promise<boolean> {
  if (reached()) return Promise.resolve(true);
  if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false);
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => finish(false);
    const timer = setInterval(() => {
      let ok: boolean;
      try {
        ok = reached();
      } catch {
        ok = false; // a file being switched or closed: try again until the deadline
      }
      if (ok) finish(true);
      else if (performance.now() >= deadline) finish(false);
    }, intervalMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or a rejection "no answer within `ms` ms" if it takes longer. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
