/**
 * `novacron keys …`: the data dir's key store from the command line. Rotation
 * works while servers run on the same data dir: a server reads the keyring
 * again when the store names a master key it does not hold (master.key), and
 * sees a new tenant key version at its next use (the store's data_version).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  createKeyStore,
  KEY_STORE_FILE,
  loadMasterKeys,
  masterKeyId,
  openKeyStore,
  writeMasterKeyFile,
  type KeyStore,
} from '../streams/crypto/index.ts';
import { recordCliAuditIn } from './cli-audit.ts';
import type { Config } from './config.ts';

type Print = (line: string) => void;

const withStore = <T>(store: KeyStore, use: (store: KeyStore) => T): T => {
  try {
    return use(store);
  } finally {
    store.close();
  }
};

/**
 * Re-wraps every tenant data key under a new master key; no event is re-encrypted.
 * With NOVACRON_MASTER_KEY: the new key is NOVACRON_MASTER_KEY and the old one is in
 * NOVACRON_MASTER_KEY_PREVIOUS (every process restarted with both first).
 * With `<dataDir>/master.key`: a new key is generated and written above the old one,
 * every row rewrapped, then the old key removed from the file.
 */
export async function rotateMaster(config: Config, print: Print): Promise<number> {
  if (config.masterKey !== undefined) {
    const { masterKeyId: id, rewrapped } = withStore(openKeyStore(config), (store) => store.rotateMasterKey());
    await recordCliAuditIn(config, { action: 'master_key.rotated', tenantId: null, target: id, details: `${rewrapped} data key versions rewrapped` });
    print(`rewrapped ${rewrapped} data key version(s) under master key ${id} (NOVACRON_MASTER_KEY)`);
    if (config.masterKeyPrevious !== undefined) {
      print('no data key needs NOVACRON_MASTER_KEY_PREVIOUS any more: remove it from every process (and destroy the old key where you keep it)');
    }
    return 0;
  }
  const ring = loadMasterKeys({ dataDir: config.dataDir });
  const fresh = randomBytes(32);
  const old = [ring.current, ...ring.previous];
  // The new key first, the old ones kept until every row is rewrapped: a crash in between
  // leaves a file that still opens everything, and running this again finishes the job.
  writeMasterKeyFile(config.dataDir, { current: fresh, previous: old });
  const { rewrapped } = withStore(
    createKeyStore({ path: join(config.dataDir, KEY_STORE_FILE), masterKey: fresh, previousMasterKeys: old }),
    (store) => store.rotateMasterKey(),
  );
  writeMasterKeyFile(config.dataDir, { current: fresh, previous: [] });
  await recordCliAuditIn(config, { action: 'master_key.rotated', tenantId: null, target: masterKeyId(fresh), details: `${rewrapped} data key versions rewrapped` });
  print(`rewrapped ${rewrapped} data key version(s) under a new master key ${masterKeyId(fresh)} in ${join(config.dataDir, 'master.key')}; the old key ${old.map(masterKeyId).join(', ')} is gone from the file`);
  return 0;
}

/** Adds a new version of one tenant's data key: new personal data is encrypted under it, older data stays readable. */
export async function rotateTenant(config: Config, tenantId: string, print: Print): Promise<number> {
  const version = withStore(openKeyStore(config), (store) => store.rotateDataKey(tenantId));
  await recordCliAuditIn(config, { action: 'tenant_key.rotated', tenantId, target: tenantId, details: `data key version ${version}` });
  print(`tenant ${tenantId}: data key version ${version} is current; data written under earlier versions stays readable`);
  return 0;
}

/** Which master key is current, which ones this process holds, and how many data keys each wraps. */
export function keysStatus(config: Config, print: Print): number {
  const report = withStore(openKeyStore(config), (store) => store.masterKeys());
  print(`current master key  ${report.current}`);
  print(`held here           ${report.held.join(', ')}`);
  const counts = Object.entries(report.dataKeysByMasterKey);
  if (counts.length === 0) print('data keys           none yet');
  for (const [id, n] of counts) print(`data keys under ${id}  ${n}${id === report.current ? '' : '  (run `novacron keys rotate-master` to rewrap)'}`);
  return 0;
}
