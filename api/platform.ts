import { join } from 'node:path';
import type { Catalog } from '../streams/catalog/index.ts';
import type { KeyStore } from '../streams/crypto/index.ts';
import type { EventStore } from '../streams/eventstore/index.ts';
import type { Config } from './config.ts';
import { openEventLog } from './event-log.ts';
import { embeddedProjections } from '../projections/index.ts';
import { createKeyShreddingProjection } from '../projections/key-shredding/index.ts';
import { createInProcessInvalidationBus, invalidateOnCommit, type InvalidationBus } from '../projections/cache-invalidation/index.ts';
import { INVENTORY } from '../projections/inventory/index.ts';
import { combineProjectionHosts } from '../streams/processing/combined-host.ts';
import { createProjectionHost, type ProjectionHost } from '../streams/processing/host.ts';
import { withAnalytics } from './analytics.ts';
import { openKafkaProjections } from './kafka-projections.ts';
import { openRedisCache, type RedisCache } from './redis-cache.ts';

/** The parts of a running NovaCron, wired in this one place. */
export interface Platform {
  config: Config;
  catalog: Catalog;
  keys: KeyStore;
  store: EventStore;
  /** The projections (not running until `projections.start()`; the server starts them). */
  projections: ProjectionHost;
  /**
   * Cache invalidations: the tags of each batch the inventory commits, published before session reads waiting on it go on.
   * In process, or over Redis pub/sub when NOVACRON_REDIS_URL is set (then also reaching other processes, and evicting L2).
   */
  invalidations: InvalidationBus;
  /** The cache layer's Redis (NOVACRON_REDIS_URL): the bus above and the L2 query cache's connection; null when unset. */
  redis: RedisCache | null;
  /**
   * Called before the projections start: tells the Redis bus where the inventory starts, so that it
   * flushes the caches if a previous run committed batches whose invalidations it never published
   * (it crashed). Nothing to do in process.
   */
  resumeInvalidations(): Promise<void>;
  close(): Promise<void>;
}

export interface PlatformOptions {
  /**
   * With NOVACRON_CLICKHOUSE_URL: `run` (the default, `npm start`) runs the
   * analytics processor here and serves its queries; `read` (`novacron start
   * --role api`) only serves them, reading what the one process running the
   * processor (`--role processor --processors analytics`) writes: no writes,
   * no compaction, so any number of API instances can share a database.
   */
  analytics?: 'run' | 'read';
}

export function openPlatform(config: Config, { analytics = 'run' }: PlatformOptions = {}): Platform {
  const { catalog, keys, codec, store } = openEventLog(config);
  const redis = config.redis.url !== undefined ? openRedisCache(config.redis, 'api') : null;
  const invalidations = redis?.bus ?? createInProcessInvalidationBus();
  // NOVACRON_KAFKA_PROCESSORS: those projections are written by `--role processor` instances fed from Kafka; here they are only read.
  const fromKafka = (name: string) => config.kafkaProcessors.includes(name);
  const embedded = createProjectionHost({
    dir: join(config.dataDir, 'projections'),
    source: store,
    // Beside the read models, the process manager that destroys deleted tenants' data keys (projections/key-shredding).
    projections: [...embeddedProjections.filter((p) => !fromKafka(p.name)), createKeyShreddingProjection(keys)],
    sync: config.sqliteSync,
    onCommit: invalidateOnCommit(invalidations, INVENTORY),
  });
  // NOVACRON_CLICKHOUSE_URL adds the analytics projection (projections/analytics), written to ClickHouse here or (analytics: 'read') only read.
  const projections = withAnalytics(
    config,
    { store, catalog, run: analytics === 'run' },
    config.kafkaProcessors.length === 0
      ? embedded
      : combineProjectionHosts([
          embedded,
          openKafkaProjections({ config, projections: embeddedProjections.filter((p) => fromKafka(p.name)), consume: [], catalog, codec, store, clientId: 'novacron-api' }),
        ]),
  );
  return {
    config,
    catalog,
    keys,
    store,
    projections,
    invalidations,
    redis,
    async resumeInvalidations() {
      if (redis === null) return;
      // The checkpoint stored in the inventory's file (its runner's is not read until it starts).
      const inventory = (await embedded.status()).find((s) => s.name === INVENTORY);
      await redis.bus.resumeFrom(inventory?.checkpoint ?? 0);
    },
    async close() {
      await projections.stop();
      await invalidations.close();
      await redis?.close();
      await store.close();
      keys.close();
    },
  };
}
