import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../errors/index.ts';
import { createKeyStore } from './key-store.ts';
import type { KeyStore } from './types.ts';

let dir: string;
let path: string;
const masterKey = randomBytes(32);
const opened: KeyStore[] = [];
const openStore = (key: Buffer = masterKey): KeyStore => {
  const store = createKeyStore({ path, masterKey: key });
  opened.push(store);
  return store;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-key-store-'));
  path = join(dir, 'keys.sqlite');
});
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rawFileBytes = (file: string): Buffer => (existsSync(file) ? readFileSync(file) : Buffer.alloc(0));
const wrappedKeyOf = (tenantId: string): Buffer => {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare<[string], { wrapped_key: Buffer | null }>('SELECT wrapped_key FROM data_key_versions WHERE tenant_id = ? ORDER BY version DESC LIMIT 1').get(tenantId);
    if (!row?.wrapped_key) throw new Error(`no wrapped key for ${tenantId}`);
    return row.wrapped_key;
  } finally {
    db.close();
  }
};

describe('a tenant without a key', () => {
  it('gets a 32-byte key on first use and the same key afterwards', () => {
    const store = openStore();
    expect(store.getDataKey('t1')).toBeNull();
    const key = store.getOrCreateDataKey('t1');
    expect(key).toHaveLength(32);
    expect(store.getOrCreateDataKey('t1')?.equals(key!)).toBe(true);
    expect(store.getDataKey('t1')?.equals(key!)).toBe(true);
    expect(store.getOrCreateDataKey('t2')?.equals(key!)).toBe(false);
    expect(store.isDestroyed('t1')).toBe(false);
  });

  it('refuses an empty tenant id', () => {
    expect(() => openStore().getOrCreateDataKey('')).toThrow(expect.objectContaining({ code: 'NC_KEY_MISSING' }));
  });

  it('keeps its key across reopening the file, which is private (0600)', () => {
    const key = openStore().getOrCreateDataKey('t1');
    opened.pop()?.close();
    expect(openStore().getDataKey('t1')?.equals(key!)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('stores the key wrapped, never in the clear', () => {
    const key = openStore().getOrCreateDataKey('t1')!;
    opened.pop()?.close();
    expect(rawFileBytes(path).includes(key)).toBe(false);
    expect(wrappedKeyOf('t1')).toHaveLength(12 + 16 + 32);
  });

  it('can be destroyed before it ever had a key, and then never gets one', () => {
    const store = openStore();
    store.destroyDataKey('t1');
    expect(store.isDestroyed('t1')).toBe(true);
    expect(store.getOrCreateDataKey('t1')).toBeNull();
  });
});

describe('a destroyed tenant', () => {
  it('has no key, is never given a new one, and other tenants keep theirs', () => {
    const store = openStore();
    store.getOrCreateDataKey('t1');
    const other = store.getOrCreateDataKey('t2');
    store.destroyDataKey('t1');
    store.destroyDataKey('t1'); // idempotent

    expect(store.isDestroyed('t1')).toBe(true);
    expect(store.getDataKey('t1')).toBeNull();
    expect(store.getOrCreateDataKey('t1')).toBeNull();
    expect(store.getDataKey('t2')?.equals(other!)).toBe(true);
    expect(store.isDestroyed('t2')).toBe(false);
  });

  it('stays destroyed after the key store file is reopened', () => {
    const first = openStore();
    first.getOrCreateDataKey('t1');
    first.destroyDataKey('t1');
    first.close();

    const reopened = openStore();
    expect(reopened.isDestroyed('t1')).toBe(true);
    expect(reopened.getOrCreateDataKey('t1')).toBeNull();
    expect(reopened.getDataKey('t1')).toBeNull();
  });

  it('zeroes the cached key it handed out', () => {
    const store = openStore();
    const key = store.getOrCreateDataKey('t1')!;
    store.destroyDataKey('t1');
    expect(key.equals(Buffer.alloc(32))).toBe(true);
  });

  it('leaves no trace of the wrapped key in the SQLite file or its WAL', () => {
    const store = openStore();
    for (let i = 0; i < 50; i += 1) store.getOrCreateDataKey(`tenant-${i}`);
    const wrapped = wrappedKeyOf('tenant-7');
    const neighbour = wrappedKeyOf('tenant-8');
    const files = (): Buffer => Buffer.concat([rawFileBytes(path), rawFileBytes(`${path}-wal`)]);
    expect(files().includes(wrapped)).toBe(true); // the search below can find it

    store.destroyDataKey('tenant-7'); // checkpoints with TRUNCATE

    expect(files().includes(wrapped)).toBe(false);
    expect(files().includes(neighbour)).toBe(true);
    store.close();
    expect(rawFileBytes(path).includes(wrapped)).toBe(false);
  });
});

describe('the master key', () => {
  it('must be 32 bytes', () => {
    expect(() => createKeyStore({ path: ':memory:', masterKey: randomBytes(16) })).toThrow(
      expect.objectContaining({ code: 'NC_MASTER_KEY_INVALID' }),
    );
  });

  it('must be the one the store was created with: reopening with another fails clearly', () => {
    openStore().getOrCreateDataKey('t1');
    opened.pop()?.close();

    let error: unknown;
    try {
      openStore(randomBytes(32));
    } catch (caught) {
      error = caught;
    }
    expect(isNovaCronError(error, 'NC_MASTER_KEY_MISMATCH')).toBe(true);
    expect((error as Error).message).toMatch(/another master key.*NOVACRON_MASTER_KEY/);
    // The right key still opens it.
    expect(openStore().getDataKey('t1')).toHaveLength(32);
  });

  it('reports a data key it cannot unwrap as a mismatch, not a crash', () => {
    openStore().getOrCreateDataKey('t1');
    opened.pop()?.close();
    // Simulate a row wrapped under another master key (e.g. restored from another install).
    const db = new Database(path);
    db.prepare("UPDATE data_key_versions SET wrapped_key = ? WHERE tenant_id = 't1'").run(randomBytes(60));
    db.close();

    const store = openStore();
    expect(() => store.getDataKey('t1')).toThrow(expect.objectContaining({ code: 'NC_MASTER_KEY_MISMATCH' }));
  });
});

describe('in memory', () => {
  it('works with :memory:', () => {
    const store = createKeyStore({ path: ':memory:', masterKey });
    opened.push(store);
    expect(store.getOrCreateDataKey('t1')).toHaveLength(32);
    store.destroyDataKey('t1');
    expect(store.getOrCreateDataKey('t1')).toBeNull();
  });
});

describe('isDestroyed, asked on every authenticated request', () => {
  it('answers from memory while the file is unchanged, and sees a deletion by another process at once', () => {
    const here = openStore();
    const there = openStore();
    expect(there.isDestroyed('never-had-a-key')).toBe(false); // remembered as alive there
    expect(there.isDestroyed('never-had-a-key')).toBe(false);
    expect(here.isDestroyed('never-had-a-key')).toBe(false);
    here.destroyDataKey('never-had-a-key');
    expect(there.isDestroyed('never-had-a-key')).toBe(true);
    // And in the process that destroyed it.
    expect(here.isDestroyed('never-had-a-key')).toBe(true);
  });
});
