import { join } from 'node:path';
import { createEventCodec, defaultCatalog } from '../streams/catalog/index.ts';
import { createPersonalDataCipher, openKeyStore } from '../streams/crypto/index.ts';
import type { EventStore } from '../streams/eventstore/index.ts';
import { createEsdbEventStore } from '../streams/eventstore/esdb/store.ts';
import { createSqliteEventStore } from '../streams/eventstore/sqlite/store.ts';
import { privateDir } from '../streams/files/private.ts';
import type { Config } from './config.ts';

/** The event log alone (with its catalog, key store and codec): for a command that only reads or appends events. */
export function openEventLog(config: Config) {
  privateDir(config.dataDir);
  const catalog = defaultCatalog();
  const keys = openKeyStore(config);
  const codec = createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) });
  // NOVACRON_ESDB_URL switches the event store to EventStoreDB / KurrentDB; otherwise the embedded SQLite file.
  const store: EventStore =
    config.esdbUrl !== undefined
      ? createEsdbEventStore({ connectionString: config.esdbUrl, codec })
      : createSqliteEventStore({ path: join(config.dataDir, 'events.db'), codec, sync: config.sqliteSync });
  return {
    catalog,
    keys,
    codec,
    store,
    async close() {
      await store.close();
      keys.close();
    },
  };
}

