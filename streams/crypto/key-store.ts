import { randomBytes } from 'node:crypto';
import { privateFile } from '../files/private.ts';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { NovaCronError } from '../errors/index.ts';
import { KEY_BYTES, open, seal } from './aead.ts';
import type { KeyStore } from './types.ts';

export interface KeyStoreOptions {
  /** The key store's own SQLite file, or ':memory:' for tests. */
  path: string;
  /** 32 bytes (see loadMasterKey); wraps every data key. */
  masterKey: Buffer;
  /** How many unwrapped data keys stay in memory. */
  cacheSize?: number;
  /** Clock for created_at / destroyed_at. */
  now?: () => Date;
}

interface KeyRow {
  wrapped_key: Buffer | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS data_keys (
    tenant_id    TEXT PRIMARY KEY,
    -- iv(12) | tag(16) | AES-256-GCM(master key, data key, aad = tenant id); NULL once destroyed
    wrapped_key  BLOB,
    created_at   TEXT NOT NULL,
    destroyed_at TEXT,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
  );
  CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
  );
`;

const CHECK_NAME = 'master_key_check';
const CHECK_AAD = Buffer.from('novacron:master-key-check');

/**
 * Tenant data keys in a SQLite file of their own, each wrapped by the master key.
 * Destroying a key nulls its row (a tombstone that also blocks recreation) and,
 * with secure_delete and a WAL checkpoint, overwrites the wrapped key in the file.
 * The in-memory cache is per instance; a commit by another instance on the file (a
 * key destroyed in another process) drops it before the next use (PRAGMA data_version).
 */
export const createKeyStore = ({
  path,
  masterKey,
  cacheSize = 10_000,
  now = () => new Date(),
}: KeyStoreOptions): KeyStore => {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== KEY_BYTES) {
    throw new NovaCronError('NC_MASTER_KEY_INVALID', `the key store's master key must be ${KEY_BYTES} bytes`);
  }
  if (!Number.isInteger(cacheSize) || cacheSize < 1) {
    throw new RangeError(`createKeyStore: cacheSize must be a positive integer, got ${cacheSize}`);
  }

  const db = openDatabase(path);
  try {
    verifyMasterKey(db, masterKey);
  } catch (error) {
    db.close();
    throw error;
  }

  const selectKey = db.prepare<[string], KeyRow>('SELECT wrapped_key FROM data_keys WHERE tenant_id = ?');
  const insertKey = db.prepare<[string, Buffer, string]>(
    'INSERT INTO data_keys (tenant_id, wrapped_key, created_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING',
  );
  const destroyKey = db.prepare<[string, string, string]>(
    `INSERT INTO data_keys (tenant_id, wrapped_key, created_at, destroyed_at) VALUES (?, NULL, ?, ?)
     ON CONFLICT (tenant_id) DO UPDATE SET wrapped_key = NULL, destroyed_at = COALESCE(destroyed_at, excluded.destroyed_at)`,
  );
  const cache = new LRUCache<string, Buffer>({ max: cacheSize });
  // PRAGMA data_version changes when another connection (another process) commits to the
  // file: a key destroyed there must not stay usable here from the cache. Writes are rare
  // (a tenant created or deleted), so the cache is dropped whole on a change and refilled.
  const dataVersion = db.prepare<[], { data_version: number }>('PRAGMA data_version');
  let seenVersion = dataVersion.get()?.data_version ?? 0;
  const followOtherWriters = (): void => {
    const version = dataVersion.get()?.data_version ?? 0;
    if (version !== seenVersion) {
      seenVersion = version;
      cache.clear();
    }
  };

  const unwrap = (tenantId: string, wrapped: Buffer): Buffer => {
    const key = open(masterKey, wrapped, Buffer.from(tenantId, 'utf8'));
    if (key === undefined || key.length !== KEY_BYTES) {
      throw new NovaCronError(
        'NC_MASTER_KEY_MISMATCH',
        `the data key of tenant ${tenantId} cannot be unwrapped: the master key (NOVACRON_MASTER_KEY or <dataDir>/master.key) is not the one it was wrapped with, or the key store row is corrupt`,
        { details: { tenantId } },
      );
    }
    return key;
  };

  /** The cached or stored key; null when destroyed; undefined when the tenant has no row. */
  const load = (tenantId: string): Buffer | null | undefined => {
    followOtherWriters();
    const cached = cache.get(tenantId);
    if (cached !== undefined) return cached;
    const row = selectKey.get(tenantId);
    if (row === undefined) return undefined;
    if (row.wrapped_key === null) return null;
    const key = unwrap(tenantId, row.wrapped_key);
    cache.set(tenantId, key);
    return key;
  };

  const create = db.transaction((tenantId: string): Buffer | null => {
    const key = randomBytes(KEY_BYTES);
    insertKey.run(tenantId, seal(masterKey, key, Buffer.from(tenantId, 'utf8')), now().toISOString());
    // Whoever won a race (another process on the same file), the stored row is the truth.
    return load(tenantId) ?? null;
  });

  return {
    getOrCreateDataKey(tenantId) {
      requireTenantId(tenantId);
      const key = load(tenantId);
      return key === undefined ? create.immediate(tenantId) : key;
    },

    getDataKey(tenantId) {
      return load(tenantId) ?? null;
    },

    destroyDataKey(tenantId) {
      requireTenantId(tenantId);
      const at = now().toISOString();
      destroyKey.run(tenantId, at, at);
      cache.get(tenantId)?.fill(0);
      cache.delete(tenantId);
      // Move the overwritten page into the main file and empty the WAL, so the
      // old wrapped key is in neither (best effort when a reader holds the WAL).
      if (path !== ':memory:') db.pragma('wal_checkpoint(TRUNCATE)');
    },

    isDestroyed(tenantId) {
      followOtherWriters();
      if (cache.has(tenantId)) return false;
      const row = selectKey.get(tenantId);
      return row !== undefined && row.wrapped_key === null;
    },

    close() {
      cache.clear();
      if (db.open) db.close();
    },
  };
};

const requireTenantId = (tenantId: string): void => {
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new NovaCronError('NC_KEY_MISSING', 'a data key needs a non-empty tenant id');
  }
};

const openDatabase = (path: string): Database.Database => {
  // Created private before SQLite opens it; its -wal and -shm files inherit the mode.
  privateFile(path, dirname(path));
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.exec(SCHEMA);
  return db;
};

/**
 * A canary sealed under the master key when the store is created: opening the
 * store with another master key fails here, at once, rather than at the first
 * unwrap.
 */
const verifyMasterKey = (db: Database.Database, masterKey: Buffer): void => {
  db.transaction(() => {
    const row = db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE name = ?').get(CHECK_NAME);
    if (row === undefined) {
      db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(CHECK_NAME, seal(masterKey, randomBytes(KEY_BYTES), CHECK_AAD));
      return;
    }
    if (open(masterKey, row.value, CHECK_AAD) === undefined) {
      throw new NovaCronError(
        'NC_MASTER_KEY_MISMATCH',
        `the key store ${db.name} was created with another master key: set NOVACRON_MASTER_KEY (or <dataDir>/master.key) back to the key it was created with`,
        { details: { path: db.name } },
      );
    }
  }).immediate();
};
