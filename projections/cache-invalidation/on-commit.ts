import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import type { InvalidationBus } from './bus.ts';
import { tagsOfBatch } from './tags.ts';

/**
 * The cache-invalidation processor, as a projection host's `onCommit` hook:
 * after `projection` commits a batch, the tags of its events are published
 * with the commit's checkpoint, so caches of that projection's query results
 * are evicted as soon as the projection's tables change (and before any
 * session read waiting on the commit goes on). Commits of other projections
 * publish nothing.
 */
export function invalidateOnCommit(bus: InvalidationBus, projection: string) {
  return (name: string, checkpoint: number, batch: readonly RecordedEvent[]): void => {
    if (name === projection) bus.publish(tagsOfBatch(batch), checkpoint);
  };
}

/**
 * The same for a host fed per stream (Kafka: `onCommit(name, batch)`), whose
 * commits have no global checkpoint: the tags are published without one.
 */
export function invalidateOnStreamCommit(bus: InvalidationBus, projection: string) {
  return (name: string, batch: readonly RecordedEvent[]): void => {
    if (name === projection) {
      const tags = tagsOfBatch(batch);
      if (tags.length > 0) bus.publish(tags);
    }
  };
}
