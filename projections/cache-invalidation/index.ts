/** Cache invalidation: the tags an event touches, and the bus that carries them to every cache. */
export { createInProcessInvalidationBus, type InvalidationBus, type InvalidationListener } from './bus.ts';
export { tag, tagsOf, tagsOfBatch, type CatalogEvent } from './tags.ts';
export { inventoryQueryTags } from './query-tags.ts';
export { invalidateOnCommit } from './on-commit.ts';
