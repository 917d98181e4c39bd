export { REDACTED, type KeyStore, type PersonalDataCipher } from './types.ts';
export { loadMasterKey, parseMasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE, type LoadMasterKeyOptions } from './master-key.ts';
export { createKeyStore, type KeyStoreOptions } from './key-store.ts';
export { createPersonalDataCipher, TOKEN_PREFIX } from './cipher.ts';
