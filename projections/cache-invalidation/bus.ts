import { EventEmitter } from 'node:events';

export type InvalidationListener = (tags: readonly string[]) => void;

/**
 * Where cache invalidations travel: the cache-invalidation processor publishes
 * the tags of the events a projection has just committed; every API instance's
 * cache subscribes and evicts the entries carrying them. In process now; Redis
 * pub/sub for scale-out (same interface).
 */
export interface InvalidationBus {
  publish(tags: readonly string[]): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: InvalidationListener): () => void;
  close(): void;
}

/**
 * The embedded bus: an EventEmitter, so `publish` has evicted from every
 * subscribed cache by the time it returns. The projection host publishes from
 * its commit hook, before it resolves the session reads waiting for that
 * commit: a session read never finds an entry the commit made stale.
 */
export function createInProcessInvalidationBus(): InvalidationBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(tags) {
      if (tags.length > 0) emitter.emit('invalidate', tags);
    },
    subscribe(listener) {
      emitter.on('invalidate', listener);
      return () => emitter.off('invalidate', listener);
    },
    close() {
      emitter.removeAllListeners();
    },
  };
}
