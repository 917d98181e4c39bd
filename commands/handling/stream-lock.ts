/**
 * One command at a time per stream within this process. Optimistic concurrency
 * alone makes N concurrent commands on one hot stream (a tenant during a burst
 * of VM creations) cost O(N²) reloads, most ending in a conflict; queueing them
 * here makes them O(N), and the expected-revision check still guards against
 * writers in other processes.
 */
export function createStreamLock() {
  const tails = new Map<string, Promise<void>>();
  return {
    async run<T>(streamId: string, work: () => Promise<T>): Promise<T> {
      const previous = tails.get(streamId) ?? Promise.resolve();
      let release!: () => void;
      const current = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => current);
      tails.set(streamId, tail);
      await previous;
      try {
        return await work();
      } finally {
        release();
        if (tails.get(streamId) === tail) tails.delete(streamId);
      }
    },
    /** Streams with a command running or queued. */
    get size() {
      return tails.size;
    },
  };
}

export type StreamLock = ReturnType<typeof createStreamLock>;
