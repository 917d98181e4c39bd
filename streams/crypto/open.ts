import { join } from 'node:path';
import { createKeyStore } from './key-store.ts';
import { loadMasterKeys } from './master-key.ts';
import type { KeyStore } from './types.ts';

export const KEY_STORE_FILE = 'keys.db';

export interface KeyStoreSettings {
  dataDir: string;
  /** NOVACRON_MASTER_KEY; unset: `<dataDir>/master.key`. */
  masterKey: string | undefined;
  /** NOVACRON_MASTER_KEY_PREVIOUS: keys being rotated away from (only beside masterKey). */
  masterKeyPrevious?: string | undefined;
}

/**
 * The data dir's key store (`keys.db`) under the configured master keys. With the
 * `master.key` file, the keyring is read again when the store names a key this
 * process does not hold: `novacron keys rotate-master` run by another process
 * takes effect here without a restart.
 */
export const openKeyStore = ({ dataDir, masterKey, masterKeyPrevious }: KeyStoreSettings): KeyStore => {
  const ring = loadMasterKeys({ value: masterKey, previous: masterKeyPrevious, dataDir });
  return createKeyStore({
    path: join(dataDir, KEY_STORE_FILE),
    masterKey: ring.current,
    previousMasterKeys: ring.previous,
    ...(masterKey === undefined && { reloadMasterKeys: () => loadMasterKeys({ dataDir }) }),
  });
};
