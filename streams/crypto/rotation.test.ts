import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seal } from './aead.ts';
import { createPersonalDataCipher } from './cipher.ts';
import { createKeyStore, masterKeyId } from './key-store.ts';
import { loadMasterKeys, writeMasterKeyFile } from './master-key.ts';
import { openKeyStore } from './open.ts';
import { REDACTED, type KeyStore } from './types.ts';

let dir: string;
let path: string;
const opened: KeyStore[] = [];
const track = (store: KeyStore): KeyStore => {
  opened.push(store);
  return store;
};
const open = (masterKey: Buffer, previousMasterKeys: Buffer[] = []) => track(createKeyStore({ path, masterKey, previousMasterKeys }));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-rotation-'));
  path = join(dir, 'keys.db');
});
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

const fileBytes = () => Buffer.concat([path, `${path}-wal`].map((file) => (existsSync(file) ? readFileSync(file) : Buffer.alloc(0))));
interface Row {
  tenant_id: string;
  version: number;
  wrapped_key: Buffer;
  master_key_id: string;
}
const storedRows = (): Row[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], Row>('SELECT tenant_id, version, wrapped_key, master_key_id FROM data_key_versions ORDER BY tenant_id, version').all();
  } finally {
    db.close();
  }
};
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('rotating a tenant data key', () => {
  it('encrypts new data under the new version and still reads the old, in this process and in another one', () => {
    const masterKey = randomBytes(32);
    const here = open(masterKey);
    const there = open(masterKey); // another process on the same file
    const cipherHere = createPersonalDataCipher(here);
    const cipherThere = createPersonalDataCipher(there);
    const old = cipherHere.encrypt('acme', 'ada@example.com');
    expect(old).toMatch(/^ncpii:v1:/);
    expect(cipherThere.decrypt('acme', old)).toBe('ada@example.com'); // cached there now

    expect(here.rotateDataKey('acme')).toBe(2);
    const fresh = cipherThere.encrypt('acme', 'grace@example.com');
    expect(fresh).toMatch(/^ncpii:v2:2:[A-Za-z0-9_-]+$/);
    expect(cipherHere.decrypt('acme', fresh)).toBe('grace@example.com');
    expect(cipherHere.decrypt('acme', old)).toBe('ada@example.com');
    expect(cipherThere.decrypt('acme', old)).toBe('ada@example.com');
    expect(here.getDataKey('acme', 1)?.equals(here.getDataKey('acme', 2)!)).toBe(false);

    // Another tenant is untouched.
    expect(cipherHere.encrypt('globex', 'x@example.com')).toMatch(/^ncpii:v1:/);
  });

  it('refuses a token whose version was changed, and a version the tenant never had', () => {
    const store = open(randomBytes(32));
    const cipher = createPersonalDataCipher(store);
    cipher.encrypt('acme', 'first@example.com');
    expect(store.rotateDataKey('acme')).toBe(2);
    const token = cipher.encrypt('acme', 'ada@example.com');
    // Relabelled as version 1: the other key fails authentication.
    expect(code(() => cipher.decrypt('acme', token.replace('ncpii:v2:2:', 'ncpii:v1:')))).toBe('NC_CIPHERTEXT_INVALID');
    expect(code(() => cipher.decrypt('acme', token.replace('ncpii:v2:2:', 'ncpii:v2:7:')))).toBe('NC_DATA_KEY_NOT_FOUND');
    for (const bad of ['ncpii:v2:0:', 'ncpii:v2:02:', 'ncpii:v2:x:', 'ncpii:v2::', 'ncpii:v2:99999999999:']) {
      expect(code(() => cipher.decrypt('acme', token.replace('ncpii:v2:2:', bad)))).toBe('NC_CIPHERTEXT_INVALID');
    }
  });

  it('shreds every version when the tenant is deleted, and refuses to rotate it afterwards', () => {
    const store = open(randomBytes(32));
    const cipher = createPersonalDataCipher(store);
    const v1 = cipher.encrypt('acme', 'ada@example.com');
    store.rotateDataKey('acme');
    const v2 = cipher.encrypt('acme', 'grace@example.com');
    const wrapped = storedRows().map((row) => row.wrapped_key);
    expect(wrapped).toHaveLength(2);

    store.destroyDataKey('acme');
    expect(cipher.decrypt('acme', v1)).toBe(REDACTED);
    expect(cipher.decrypt('acme', v2)).toBe(REDACTED);
    expect(storedRows()).toEqual([]);
    const bytes = fileBytes();
    for (const key of wrapped) expect(bytes.includes(key)).toBe(false);
    expect(code(() => store.rotateDataKey('acme'))).toBe('NC_DATA_KEY_DESTROYED');
    expect(store.getOrCreateDataKey('acme')).toBeNull();
  });
});

describe('rotating the master key', () => {
  it('rewraps every data key under the new master key; events keep their tokens and stay readable; the old key no longer opens the store', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = open(oldKey);
    const cipher = createPersonalDataCipher(before);
    const tenants = ['acme', 'globex', 'initech'];
    const tokens = tenants.map((t) => cipher.encrypt(t, `${t}@example.com`));
    before.rotateDataKey('acme');
    const acme2 = cipher.encrypt('acme', 'second@example.com');
    before.destroyDataKey('initech');
    const oldWrapped = storedRows().map((row) => row.wrapped_key);

    // Every process runs with the new key and the old one as previous, then one of them rotates.
    const rotating = open(newKey, [oldKey]);
    expect(rotating.masterKeys()).toEqual({
      current: masterKeyId(oldKey),
      held: [masterKeyId(newKey), masterKeyId(oldKey)],
      dataKeysByMasterKey: { [masterKeyId(oldKey)]: 3 },
    });
    expect(rotating.rotateMasterKey()).toEqual({ masterKeyId: masterKeyId(newKey), rewrapped: 3 });
    expect(storedRows().every((row) => row.master_key_id === masterKeyId(newKey))).toBe(true);
    const bytes = fileBytes();
    for (const key of oldWrapped) expect(bytes.includes(key)).toBe(false);

    for (const store of opened.splice(0)) store.close();
    const after = open(newKey); // the new key alone
    const reader = createPersonalDataCipher(after);
    expect(reader.decrypt('acme', tokens[0]!)).toBe('acme@example.com');
    expect(reader.decrypt('globex', tokens[1]!)).toBe('globex@example.com');
    expect(reader.decrypt('initech', tokens[2]!)).toBe(REDACTED);
    expect(reader.decrypt('acme', acme2)).toBe('second@example.com');
    expect(after.masterKeys().dataKeysByMasterKey).toEqual({ [masterKeyId(newKey)]: 3 });
    expect(code(() => open(oldKey))).toBe('NC_MASTER_KEY_MISMATCH');
  });

  it('keeps serving in a process that still holds the keys of before: new tenants are wrapped under the current key', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const serving = open(newKey, [oldKey]);
    const cipher = createPersonalDataCipher(serving);
    const token = cipher.encrypt('acme', 'ada@example.com');
    open(newKey, [oldKey]).rotateMasterKey();
    expect(cipher.decrypt('acme', token)).toBe('ada@example.com');
    cipher.encrypt('globex', 'g@example.com');
    expect(storedRows().map((row) => row.master_key_id)).toEqual([masterKeyId(newKey), masterKeyId(newKey)]);
  });

  it('refuses to wrap a new key under an old master key once the store has moved on', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const stale = open(oldKey); // a process never restarted with the new key
    createPersonalDataCipher(stale).encrypt('acme', 'ada@example.com');
    open(newKey, [oldKey]).rotateMasterKey();
    expect(code(() => stale.getOrCreateDataKey('globex'))).toBe('NC_MASTER_KEY_MISMATCH');
    expect(storedRows().map((row) => row.tenant_id)).toEqual(['acme']);
  });

  it('with master.key, a running process follows a rotation made by another one without a restart', () => {
    const serving = track(openKeyStore({ dataDir: dir, masterKey: undefined }));
    const cipher = createPersonalDataCipher(serving);
    const token = cipher.encrypt('acme', 'ada@example.com');
    const oldRing = loadMasterKeys({ dataDir: dir });

    // What `novacron keys rotate-master` does with the file (api/keys.ts).
    const fresh = randomBytes(32);
    writeMasterKeyFile(dir, { current: fresh, previous: [oldRing.current] });
    const rotating = createKeyStore({ path, masterKey: fresh, previousMasterKeys: [oldRing.current] });
    expect(rotating.rotateMasterKey().rewrapped).toBe(1);
    rotating.close();
    writeMasterKeyFile(dir, { current: fresh, previous: [] });
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).toBe(`${fresh.toString('hex')}\n`);

    // The serving process, whose cache was dropped by the other writer, unwraps under the new key…
    expect(cipher.decrypt('acme', token)).toBe('ada@example.com');
    // …and wraps a new tenant's key under it too.
    cipher.encrypt('globex', 'g@example.com');
    expect(serving.masterKeys().dataKeysByMasterKey).toEqual({ [masterKeyId(fresh)]: 2 });
  });
});

describe('a key store file of version 1', () => {
  it('is migrated on open: its keys become version 1 under the master key that wrapped them, tombstones stay', () => {
    const masterKey = randomBytes(32);
    const dataKey = randomBytes(32);
    const legacy = new Database(path);
    legacy.exec(`
      CREATE TABLE data_keys (tenant_id TEXT PRIMARY KEY, wrapped_key BLOB, created_at TEXT NOT NULL, destroyed_at TEXT,
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL)));
      CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    `);
    legacy.prepare('INSERT INTO meta VALUES (?, ?)').run('master_key_check', seal(masterKey, randomBytes(32), Buffer.from('novacron:master-key-check')));
    legacy.prepare('INSERT INTO data_keys VALUES (?, ?, ?, NULL)').run('acme', seal(masterKey, dataKey, Buffer.from('acme')), '2026-01-01T00:00:00.000Z');
    legacy.prepare('INSERT INTO data_keys VALUES (?, NULL, ?, ?)').run('gone', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z');
    legacy.close();

    const store = open(masterKey);
    expect(store.getDataKey('acme')?.equals(dataKey)).toBe(true);
    expect(store.isDestroyed('gone')).toBe(true);
    expect(store.getOrCreateDataKey('gone')).toBeNull();
    expect(store.masterKeys()).toMatchObject({ current: masterKeyId(masterKey), dataKeysByMasterKey: { [masterKeyId(masterKey)]: 1 } });
    expect(store.rotateDataKey('acme')).toBe(2);
  });
});
