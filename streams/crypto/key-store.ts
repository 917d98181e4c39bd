import { createHmac, randomBytes } from 'node:crypto';
import { privateFile } from '../files/private.ts';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { NovaCronError } from '../errors/index.ts';
import { KEY_BYTES, open, seal } from './aead.ts';
import type { KeyStore, MasterKeyring } from './types.ts';

export interface KeyStoreOptions {
  /** The key store's own SQLite file, or ':memory:' for tests. */
  path: string;
  /** 32 bytes (see loadMasterKey): wraps every new data key. */
  masterKey: Buffer;
  /** Master keys being rotated away from (NOVACRON_MASTER_KEY_PREVIOUS): they still unwrap, never wrap. */
  previousMasterKeys?: readonly Buffer[];
  /**
   * Reads the keyring again (the `master.key` file): called when a row names a
   * master key this process does not hold, or the store says another key is now
   * current, i.e. `novacron keys rotate-master` ran in another process.
   */
  reloadMasterKeys?: () => MasterKeyring;
  /** How many unwrapped data keys stay in memory. */
  cacheSize?: number;
  /** Clock for created_at / destroyed_at. */
  now?: () => Date;
}

interface VersionRow {
  version: number;
  wrapped_key: Buffer;
  master_key_id: string;
}

/**
 * Version 2 of the file. Version 1 had one `data_keys` row per tenant (its key,
 * or NULL once destroyed) and no record of which master key wrapped it; it is
 * migrated in place on open (the rows are copied as they are: a version-1 key is
 * wrapped with the tenant id alone as AAD, see wrapAad).
 */
const SCHEMA_VERSION = 2;
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS tenant_keys (
    tenant_id    TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL,
    -- set once the tenant's keys are destroyed (crypto-shredding): a tombstone that blocks recreation
    destroyed_at TEXT
  );
  CREATE TABLE IF NOT EXISTS data_key_versions (
    tenant_id     TEXT NOT NULL REFERENCES tenant_keys (tenant_id),
    version       INTEGER NOT NULL CHECK (version >= 1),
    -- iv(12) | tag(16) | AES-256-GCM(master key, data key, aad = wrapAad(tenant id, version))
    wrapped_key   BLOB NOT NULL,
    -- masterKeyId() of the master key that wrapped it
    master_key_id TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS data_key_versions_by_master ON data_key_versions (master_key_id);
  CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
  );
`;

const CHECK_NAME = 'master_key_check';
/** The id of the master key new data keys are wrapped under; `rotateMasterKey` moves it. */
const CURRENT_NAME = 'current_master_key_id';
const CHECK_AAD = Buffer.from('novacron:master-key-check');
const ID_LABEL = 'novacron:master-key-id';
/** Rows rewrapped per transaction by rotateMasterKey: short write locks, so running processes are not held up. */
const REWRAP_BATCH = 500;

/**
 * A master key's public name: the first 16 hex characters of HMAC-SHA256(key,
 * "novacron:master-key-id"). It tells keys apart (which key wrapped a row, which
 * one is current) and reveals nothing of the key, like a KMS key id.
 */
export const masterKeyId = (key: Buffer): string => createHmac('sha256', key).update(ID_LABEL).digest('hex').slice(0, 16);

/**
 * What a data key is wrapped with besides the master key: the tenant id (so a row
 * moved to another tenant fails), and from version 2 on its version too (so rows
 * cannot be swapped between versions). Version 1 keeps the tenant id alone, as
 * files of schema version 1 were written.
 */
const wrapAad = (tenantId: string, version: number): Buffer => Buffer.from(version === 1 ? tenantId : `${tenantId}\u0000v${version}`, 'utf8');

interface Ring {
  current: Buffer;
  currentId: string;
  byId: Map<string, Buffer>;
}

const ringOf = (current: Buffer, previous: readonly Buffer[]): Ring => {
  for (const key of [current, ...previous]) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new NovaCronError('NC_MASTER_KEY_INVALID', `the key store's master keys must be ${KEY_BYTES} bytes`);
    }
  }
  const byId = new Map<string, Buffer>();
  for (const key of [current, ...previous]) byId.set(masterKeyId(key), key);
  return { current, currentId: masterKeyId(current), byId };
};

/**
 * Tenant data keys in a SQLite file of their own, each wrapped by a master key.
 * A tenant has numbered key versions: new personal data is encrypted under the
 * latest (`rotateDataKey` adds one), older data stays readable under its own.
 * Each row names the master key that wrapped it, so `rotateMasterKey` can rewrap
 * every row under a new master key while processes holding the old and the new
 * one keep working, and no event is re-encrypted.
 * Destroying a tenant's keys deletes its rows and leaves a tombstone that also
 * blocks recreation; with secure_delete and a WAL checkpoint the wrapped keys are
 * overwritten in the file. The in-memory cache is per instance; a commit by
 * another instance on the file (a key destroyed or rotated in another process)
 * drops it before the next use (PRAGMA data_version).
 */
export const createKeyStore = ({
  path,
  masterKey,
  previousMasterKeys = [],
  reloadMasterKeys,
  cacheSize = 10_000,
  now = () => new Date(),
}: KeyStoreOptions): KeyStore => {
  let ring = ringOf(masterKey, previousMasterKeys);
  if (!Number.isInteger(cacheSize) || cacheSize < 1) {
    throw new RangeError(`createKeyStore: cacheSize must be a positive integer, got ${cacheSize}`);
  }

  const db = openDatabase(path);
  try {
    ring = prepareFile(db, ring, reloadMasterKeys);
  } catch (error) {
    db.close();
    throw error;
  }

  const selectTenant = db.prepare<[string], { destroyed_at: string | null }>('SELECT destroyed_at FROM tenant_keys WHERE tenant_id = ?');
  const selectVersion = db.prepare<[string, number], VersionRow>(
    'SELECT version, wrapped_key, master_key_id FROM data_key_versions WHERE tenant_id = ? AND version = ?',
  );
  const selectLatest = db.prepare<[string], VersionRow>(
    'SELECT version, wrapped_key, master_key_id FROM data_key_versions WHERE tenant_id = ? ORDER BY version DESC LIMIT 1',
  );
  const insertTenant = db.prepare<[string, string]>('INSERT INTO tenant_keys (tenant_id, created_at) VALUES (?, ?) ON CONFLICT (tenant_id) DO NOTHING');
  const insertVersion = db.prepare<[string, number, Buffer, string, string]>(
    'INSERT INTO data_key_versions (tenant_id, version, wrapped_key, master_key_id, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const tombstone = db.prepare<[string, string, string]>(
    `INSERT INTO tenant_keys (tenant_id, created_at, destroyed_at) VALUES (?, ?, ?)
     ON CONFLICT (tenant_id) DO UPDATE SET destroyed_at = COALESCE(destroyed_at, excluded.destroyed_at)`,
  );
  const deleteVersions = db.prepare<[string]>('DELETE FROM data_key_versions WHERE tenant_id = ?');
  const selectMeta = db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE name = ?');
  const upsertMeta = db.prepare<[string, Buffer]>('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
  const selectStale = db.prepare<[string, number], VersionRow & { tenant_id: string }>(
    'SELECT tenant_id, version, wrapped_key, master_key_id FROM data_key_versions WHERE master_key_id <> ? LIMIT ?',
  );
  const rewrap = db.prepare<[Buffer, string, string, number]>(
    'UPDATE data_key_versions SET wrapped_key = ?, master_key_id = ? WHERE tenant_id = ? AND version = ?',
  );
  const countByMaster = db.prepare<[], { master_key_id: string; n: number }>(
    'SELECT master_key_id, count(*) AS n FROM data_key_versions GROUP BY master_key_id ORDER BY master_key_id',
  );

  // Keys by `${tenant}\u0000${version}`; the latest version per tenant beside them.
  const cache = new LRUCache<string, Buffer>({ max: cacheSize });
  const latest = new LRUCache<string, number>({ max: cacheSize });
  // Tenants seen not destroyed since the file last changed: authentication asks on every request.
  const alive = new LRUCache<string, true>({ max: cacheSize });
  const cacheKey = (tenantId: string, version: number) => `${tenantId}\u0000${version}`;
  const dropCaches = () => {
    cache.clear();
    latest.clear();
    alive.clear();
  };
  // PRAGMA data_version changes when another connection (another process) commits to the
  // file: a key destroyed or rotated there must not stay usable here from the cache. Writes
  // are rare (a tenant created, deleted or rotated), so the caches are dropped whole on a
  // change and refilled.
  const dataVersion = db.prepare<[], { data_version: number }>('PRAGMA data_version');
  let seenVersion = dataVersion.get()?.data_version ?? 0;
  const followOtherWriters = (): void => {
    const version = dataVersion.get()?.data_version ?? 0;
    if (version !== seenVersion) {
      seenVersion = version;
      dropCaches();
    }
  };

  /** The master key with this id, reading the keyring again once when it is not held. */
  const masterKeyById = (id: string): Buffer | undefined => {
    const held = ring.byId.get(id);
    if (held !== undefined || reloadMasterKeys === undefined) return held;
    const reloaded = reloadMasterKeys();
    ring = ringOf(reloaded.current, reloaded.previous);
    return ring.byId.get(id);
  };

  const unwrap = (tenantId: string, row: VersionRow): Buffer => {
    const wrapping = masterKeyById(row.master_key_id);
    if (wrapping === undefined) {
      throw new NovaCronError(
        'NC_MASTER_KEY_MISMATCH',
        `data key version ${row.version} of tenant ${tenantId} is wrapped under master key ${row.master_key_id}, which this process does not hold: run it with that key as NOVACRON_MASTER_KEY or NOVACRON_MASTER_KEY_PREVIOUS (a rotation is in progress or was not finished)`,
        { details: { tenantId, masterKeyId: row.master_key_id } },
      );
    }
    const key = open(wrapping, row.wrapped_key, wrapAad(tenantId, row.version));
    if (key === undefined || key.length !== KEY_BYTES) {
      throw new NovaCronError(
        'NC_MASTER_KEY_MISMATCH',
        `data key version ${row.version} of tenant ${tenantId} cannot be unwrapped: the master key (NOVACRON_MASTER_KEY or <dataDir>/master.key) is not the one it was wrapped with, or the key store row is corrupt`,
        { details: { tenantId } },
      );
    }
    return key;
  };

  const remember = (tenantId: string, row: VersionRow): Buffer => {
    const key = unwrap(tenantId, row);
    cache.set(cacheKey(tenantId, row.version), key);
    return key;
  };

  /** The stored key of this version; null when destroyed or never made. */
  const load = (tenantId: string, version: number): Buffer | null => {
    followOtherWriters();
    const cached = cache.get(cacheKey(tenantId, version));
    if (cached !== undefined) return cached;
    const row = selectVersion.get(tenantId, version);
    return row === undefined ? null : remember(tenantId, row);
  };

  /** The latest version and its key; null when destroyed; undefined when the tenant has none. */
  const loadLatest = (tenantId: string): { version: number; key: Buffer } | null | undefined => {
    followOtherWriters();
    const version = latest.get(tenantId);
    if (version !== undefined) {
      const cached = cache.get(cacheKey(tenantId, version));
      if (cached !== undefined) return { version, key: cached };
    }
    const row = selectLatest.get(tenantId);
    if (row === undefined) return selectTenant.get(tenantId)?.destroyed_at != null ? null : undefined;
    latest.set(tenantId, row.version);
    return { version: row.version, key: remember(tenantId, row) };
  };

  /** The master key new data keys are wrapped under: the one the file names current. */
  const wrappingKey = (): { id: string; key: Buffer } => {
    const named = selectMeta.get(CURRENT_NAME)?.value.toString('utf8') ?? ring.currentId;
    const key = masterKeyById(named);
    if (key === undefined) {
      throw new NovaCronError(
        'NC_MASTER_KEY_MISMATCH',
        `the key store's current master key is ${named} (set by \`novacron keys rotate-master\`), which this process does not hold: restart it with that key as NOVACRON_MASTER_KEY`,
        { details: { masterKeyId: named } },
      );
    }
    return { id: named, key };
  };

  const addVersion = (tenantId: string, version: number): void => {
    const { id, key: wrapping } = wrappingKey();
    const key = randomBytes(KEY_BYTES);
    const at = now().toISOString();
    insertTenant.run(tenantId, at);
    insertVersion.run(tenantId, version, seal(wrapping, key, wrapAad(tenantId, version)), id, at);
    key.fill(0);
  };

  const create = db.transaction((tenantId: string): { version: number; key: Buffer } | null => {
    // Whoever won a race (another process on the same file), the stored row is the truth.
    const found = loadLatest(tenantId);
    if (found !== undefined) return found;
    addVersion(tenantId, 1);
    return loadLatest(tenantId) ?? null;
  });

  const rotate = db.transaction((tenantId: string): number => {
    followOtherWriters();
    const tenant = selectTenant.get(tenantId);
    if (tenant?.destroyed_at != null) {
      throw new NovaCronError('NC_DATA_KEY_DESTROYED', `tenant ${tenantId}'s data keys were destroyed (the tenant was deleted): there is nothing to rotate`, {
        details: { tenantId },
      });
    }
    const version = (selectLatest.get(tenantId)?.version ?? 0) + 1;
    addVersion(tenantId, version);
    latest.delete(tenantId);
    return version;
  });

  const destroy = db.transaction((tenantId: string, at: string) => {
    tombstone.run(tenantId, at, at);
    deleteVersions.run(tenantId);
  });

  const adopt = db.transaction(() => {
    upsertMeta.run(CURRENT_NAME, Buffer.from(ring.currentId, 'utf8'));
    upsertMeta.run(CHECK_NAME, seal(ring.current, randomBytes(KEY_BYTES), CHECK_AAD));
  });
  const rewrapBatch = db.transaction((): number => {
    const rows = selectStale.all(ring.currentId, REWRAP_BATCH);
    for (const row of rows) {
      const key = unwrap(row.tenant_id, row);
      rewrap.run(seal(ring.current, key, wrapAad(row.tenant_id, row.version)), ring.currentId, row.tenant_id, row.version);
      key.fill(0);
    }
    return rows.length;
  });

  const checkpoint = () => {
    // Move overwritten pages into the main file and empty the WAL, so old wrapped
    // keys are in neither (best effort when a reader holds the WAL).
    if (path !== ':memory:') db.pragma('wal_checkpoint(TRUNCATE)');
  };

  const getOrCreateCurrentKey = (tenantId: string): { version: number; key: Buffer } | null => {
    requireTenantId(tenantId);
    const found = loadLatest(tenantId);
    return found === undefined ? create.immediate(tenantId) : found;
  };

  return {
    getOrCreateDataKey: (tenantId) => getOrCreateCurrentKey(tenantId)?.key ?? null,
    getOrCreateCurrentKey,

    getDataKey(tenantId, version) {
      if (version === undefined) return loadLatest(tenantId)?.key ?? null;
      return load(tenantId, version);
    },

    rotateDataKey(tenantId) {
      requireTenantId(tenantId);
      return rotate.immediate(tenantId);
    },

    rotateMasterKey() {
      adopt.immediate();
      let rewrapped = 0;
      // Batches until no row is left under another key: a process that had not yet seen
      // the new current key may still add one meanwhile, and the next batch takes it.
      for (let n = rewrapBatch.immediate(); n > 0; n = rewrapBatch.immediate()) rewrapped += n;
      checkpoint();
      dropCaches();
      return { masterKeyId: ring.currentId, rewrapped };
    },

    masterKeys() {
      followOtherWriters();
      const byMasterKey = Object.fromEntries(countByMaster.all().map((r) => [r.master_key_id, r.n]));
      const current = selectMeta.get(CURRENT_NAME)?.value.toString('utf8') ?? ring.currentId;
      return { current, held: [...ring.byId.keys()], dataKeysByMasterKey: byMasterKey };
    },

    destroyDataKey(tenantId) {
      requireTenantId(tenantId);
      const at = now().toISOString();
      destroy.immediate(tenantId, at);
      for (const [k, key] of cache.entries()) {
        if (k.startsWith(`${tenantId}\u0000`)) {
          key.fill(0);
          cache.delete(k);
        }
      }
      latest.delete(tenantId);
      alive.delete(tenantId);
      checkpoint();
    },

    isDestroyed(tenantId) {
      followOtherWriters();
      if (latest.has(tenantId) || alive.has(tenantId)) return false;
      const destroyed = selectTenant.get(tenantId)?.destroyed_at != null;
      if (!destroyed) alive.set(tenantId, true);
      return destroyed;
    },

    close() {
      dropCaches();
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
  return db;
};

/**
 * Creates or migrates the tables and checks the master keys against the canary
 * sealed when the store was created (or last rotated): opening the store with
 * none of the right keys fails here, at once, rather than at the first unwrap.
 * Returns the ring to use (reloaded when the file's current key is not held).
 */
const prepareFile = (db: Database.Database, given: Ring, reload: (() => MasterKeyring) | undefined): Ring => {
  let ring = given;
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'data_keys'").get() !== undefined;
    db.exec(SCHEMA);
    const meta = (name: string) => db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE name = ?').get(name)?.value;
    let check = meta(CHECK_NAME);
    if (check === undefined) {
      db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(CHECK_NAME, seal(ring.current, randomBytes(KEY_BYTES), CHECK_AAD));
      db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(CURRENT_NAME, Buffer.from(ring.currentId, 'utf8'));
      check = meta(CHECK_NAME)!;
    }
    const opens = (r: Ring) => [...r.byId.values()].find((key) => open(key, check!, CHECK_AAD) !== undefined);
    let opener = opens(ring);
    if (opener === undefined && reload !== undefined) {
      const reloaded = reload();
      ring = ringOf(reloaded.current, reloaded.previous);
      opener = opens(ring);
    }
    if (opener === undefined) {
      throw new NovaCronError(
        'NC_MASTER_KEY_MISMATCH',
        `the key store ${db.name} was created with another master key: set NOVACRON_MASTER_KEY (or <dataDir>/master.key) back to the key it was created with, or give that key as NOVACRON_MASTER_KEY_PREVIOUS while rotating`,
        { details: { path: db.name } },
      );
    }
    if (meta(CURRENT_NAME) === undefined) {
      // Files of version 1 were wrapped under the key that opens the canary.
      db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(CURRENT_NAME, Buffer.from(masterKeyId(opener), 'utf8'));
    }
    if (version < SCHEMA_VERSION && legacy) {
      const wrappedBy = masterKeyId(opener);
      db.exec(`
        INSERT INTO tenant_keys (tenant_id, created_at, destroyed_at) SELECT tenant_id, created_at, destroyed_at FROM data_keys;
        INSERT INTO data_key_versions (tenant_id, version, wrapped_key, master_key_id, created_at)
          SELECT tenant_id, 1, wrapped_key, '${wrappedBy}', created_at FROM data_keys WHERE wrapped_key IS NOT NULL;
        DROP TABLE data_keys;
      `);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  return ring;
};
