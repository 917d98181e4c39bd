export { REDACTED, type KeyStore, type MasterKeyReport, type MasterKeyring, type PersonalDataCipher } from './types.ts';
export {
  loadMasterKey,
  loadMasterKeys,
  parseMasterKey,
  writeMasterKeyFile,
  MASTER_KEY_ENV,
  MASTER_KEY_PREVIOUS_ENV,
  MASTER_KEY_FILE,
  type LoadMasterKeyOptions,
  type LoadMasterKeysOptions,
} from './master-key.ts';
export { createKeyStore, masterKeyId, type KeyStoreOptions } from './key-store.ts';
export { openKeyStore, KEY_STORE_FILE, type KeyStoreSettings } from './open.ts';
export { createPersonalDataCipher, TOKEN_PREFIX } from './cipher.ts';
