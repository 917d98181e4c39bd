/** Cache invalidation: the tags an event touches, and the bus that carries them to every cache. */
export { createInProcessInvalidationBus, type InvalidationBus, type InvalidationListener } from './bus.ts';
export { tag, tagsOf, tagsOfBatch, type CatalogEvent } from './tags.ts';
export { inventoryQueryTags } from './query-tags.ts';
export { invalidateOnCommit, invalidateOnStreamCommit } from './on-commit.ts';
export { createRedisInvalidationBus, type RedisBusStats, type RedisInvalidationBus, type RedisInvalidationBusOptions } from './redis-bus.ts';
export { createRedisClient, redisTlsOptions, type RedisClientOptions } from './redis-client.ts';
export { createRedisL2Store, type RedisL2Store } from './redis-l2-store.ts';
export { DEFAULT_REDIS_PREFIX, REDIS_PREFIX_PATTERN, decodeInvalidation, encodeInvalidation, freshEnough, invalidationChannel, type InvalidationMessage, type L2Entry } from './redis-protocol.ts';
