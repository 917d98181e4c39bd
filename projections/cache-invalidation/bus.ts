import { EventEmitter } from 'node:events';

/**
 * Receives the tags of a commit. `through`, when the publisher knows it, is
 * the checkpoint (global log position) of that commit: every event up to it
 * has had its tags published, in order. Publishers fed per stream (Kafka)
 * leave it out.
 */
export type InvalidationListener = (tags: readonly string[], through?: number) => void;

/**
 * Where cache invalidations travel: the cache-invalidation processor publishes
 * the tags of the events a projection has just committed; every API instance's
 * cache subscribes and evicts the entries carrying them. In process
 * (createInProcessInvalidationBus) or over Redis pub/sub
 * (createRedisInvalidationBus, `./redis-bus.ts`), same interface.
 */
export interface InvalidationBus {
  /** Publishes the tags of a commit (and its checkpoint, see InvalidationListener). */
  publish(tags: readonly string[], through?: number): void;
  /**
   * Returns the unsubscribe function. `onFlush` is called when invalidations
   * may have been lost (a Redis subscriber lost its connection, or got it
   * back): everything cached may be stale and must be dropped.
   */
  subscribe(listener: InvalidationListener, onFlush?: () => void): () => void;
  /**
   * Whether every invalidation published from now on reaches the listeners.
   * Always true in process; over Redis, false until the subscription is
   * confirmed and while it is lost. Caches store nothing while it is false.
   */
  readonly live: boolean;
  close(): void | Promise<void>;
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
    publish(tags, through) {
      if (tags.length > 0 || through !== undefined) emitter.emit('invalidate', tags, through);
    },
    subscribe(listener) {
      // Nothing is ever lost in process: onFlush is never called.
      emitter.on('invalidate', listener);
      return () => emitter.off('invalidate', listener);
    },
    live: true,
    close() {
      emitter.removeAllListeners();
    },
  };
}
