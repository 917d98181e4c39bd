import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEventCodec, defaultCatalog, type Catalog } from '../streams/catalog/index.ts';
import { createKeyStore, createPersonalDataCipher, loadMasterKey, type KeyStore } from '../streams/crypto/index.ts';
import type { EventStore } from '../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../streams/eventstore/sqlite/store.ts';
import type { Config } from './config.ts';
import { embeddedProjections } from '../projections/index.ts';
import { createInProcessInvalidationBus, invalidateOnCommit, type InvalidationBus } from '../projections/cache-invalidation/index.ts';
import { INVENTORY } from '../projections/inventory/index.ts';
import { createProjectionHost, type ProjectionHost } from '../streams/processing/host.ts';

/** The parts of a running NovaCron, wired in this one place. */
export interface Platform {
  config: Config;
  catalog: Catalog;
  keys: KeyStore;
  store: EventStore;
  /** The projections (not running until `projections.start()`; the server starts them). */
  projections: ProjectionHost;
  /** Cache invalidations: the tags of each batch the inventory commits, published before session reads waiting on it go on. */
  invalidations: InvalidationBus;
  close(): Promise<void>;
}

export function openPlatform(config: Config): Platform {
  mkdirSync(config.dataDir, { recursive: true });
  const catalog = defaultCatalog();
  const keys = createKeyStore({
    path: join(config.dataDir, 'keys.db'),
    masterKey: loadMasterKey({ value: config.masterKey, dataDir: config.dataDir }),
  });
  const store = createSqliteEventStore({
    path: join(config.dataDir, 'events.db'),
    codec: createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) }),
    sync: config.sqliteSync,
  });
  const invalidations = createInProcessInvalidationBus();
  const projections = createProjectionHost({
    dir: join(config.dataDir, 'projections'),
    source: store,
    projections: embeddedProjections,
    sync: config.sqliteSync,
    onCommit: invalidateOnCommit(invalidations, INVENTORY),
  });
  return {
    config,
    catalog,
    keys,
    store,
    projections,
    invalidations,
    async close() {
      await projections.stop();
      invalidations.close();
      await store.close();
      keys.close();
    },
  };
}
