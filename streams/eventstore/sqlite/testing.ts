/**
 * For tests: an embedded SQLite event store on a fresh temporary dir, with the
 * default catalog and personal data encrypted under a throwaway key store
 * (in memory unless asked for a file). commands/fleet/testing.ts builds a
 * fleet on it.
 *
 *   let dir: string;
 *   let store: EventStore;
 *   let close: () => Promise<void>;
 *   beforeEach(() => ({ dir, store, close } = openTempEventStore('host')));
 *   afterEach(() => close());
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher, type KeyStore } from '../../crypto/index.ts';
import { createSqliteEventStore, type SqliteEventStore } from './store.ts';

export interface TempEventStore {
  /** The temporary dir (`novacron-<name>-…`); the store is `events.db` in it, and tests may put other files there. */
  dir: string;
  store: SqliteEventStore;
  /** The tenants' data keys the store encrypts personal data with. */
  keys: KeyStore;
  /** Closes the store and its key store, and removes the dir. */
  close(): Promise<void>;
}

export interface TempEventStoreOptions {
  /** synchronous=NORMAL by default: tests need no fsync. */
  sync?: 'full' | 'normal';
  /** The key store in memory (default) or in `keys.db` in the dir. */
  keyStore?: 'memory' | 'file';
}

/** An event store on `<tmp>/novacron-<name>-…/events.db`. */
export function openTempEventStore(name: string, { sync = 'normal', keyStore = 'memory' }: TempEventStoreOptions = {}): TempEventStore {
  const dir = mkdtempSync(join(tmpdir(), `novacron-${name}-`));
  const keys = createKeyStore({ path: keyStore === 'file' ? join(dir, 'keys.db') : ':memory:', masterKey: randomBytes(32) });
  const store = createSqliteEventStore({
    path: join(dir, 'events.db'),
    codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }),
    sync,
  });
  return {
    dir,
    store,
    keys,
    async close() {
      await store.close();
      keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
