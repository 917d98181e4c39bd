import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiDatabase } from '../api-db.ts';
import type { Principal, TenantRole } from './principal.ts';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  role: TenantRole;
  name: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyRecord {
  /** `nck_<id>_<secret>`: shown once, never stored. */
  key: string;
}

export interface ApiKeyStore {
  create(input: { tenantId: string; role: TenantRole; name: string | null; createdBy: string }): CreatedApiKey;
  /** The principal of a presented key, or null when it is malformed, unknown or revoked. */
  authenticate(key: string): Principal | null;
  get(id: string): ApiKeyRecord | null;
  /** Marks the key revoked; false when there is no such key. Revoking twice is harmless. */
  revoke(id: string): boolean;
}

/** `nck_` + 16 hex characters of id + `_` + 43 base64url characters (32 random bytes). */
const KEY_FORMAT = /^nck_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The id part of a presented key (group 1), read before any hashing, e.g. to limit failed attempts per key. */
export const API_KEY_ID = /^nck_([0-9a-f]{16})_/;

/**
 * The secret is 32 random bytes, so a single sha256 is enough to store it
 * (nobody can brute-force 256 bits; slow hashes are for low-entropy passwords).
 * Lookup is by id, comparison in constant time.
 */
const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

interface Row {
  id: string;
  tenant_id: string;
  role: string;
  name: string | null;
  secret_sha256: Buffer;
  created_at: string;
  revoked_at: string | null;
}

const asRecord = (row: Row, role: TenantRole): ApiKeyRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  role,
  name: row.name,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

const tenantRoleOf = (value: string): TenantRole | null => (value === 'tenant-admin' || value === 'tenant-user' ? value : null);

export function createApiKeyStore(db: ApiDatabase, { now = () => new Date() }: { now?: () => Date } = {}): ApiKeyStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS api_keys (
      id            TEXT PRIMARY KEY,
      tenant_id     TEXT NOT NULL,
      role          TEXT NOT NULL CHECK (role IN ('tenant-admin', 'tenant-user')),
      name          TEXT,
      secret_sha256 BLOB NOT NULL,
      created_by    TEXT NOT NULL,
      created_at    TEXT NOT NULL,
      revoked_at    TEXT
    ) STRICT;
    CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON api_keys (tenant_id);
  `);
  const insert = db.prepare(
    'INSERT INTO api_keys (id, tenant_id, role, name, secret_sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const select = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?');
  const markRevoked = db.prepare('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?');

  const read = (id: string): { row: Row; record: ApiKeyRecord } | null => {
    const row = select.get(id);
    const role = row === undefined ? null : tenantRoleOf(row.role);
    return row === undefined || role === null ? null : { row, record: asRecord(row, role) };
  };

  return {
    create({ tenantId, role, name, createdBy }) {
      const id = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const createdAt = now().toISOString();
      insert.run(id, tenantId, role, name, digest(secret), createdBy, createdAt);
      return { id, tenantId, role, name, createdAt, revokedAt: null, key: `nck_${id}_${secret}` };
    },
    authenticate(key) {
      const match = KEY_FORMAT.exec(key);
      if (match === null) return null;
      const found = read(match[1] ?? '');
      if (found === null || found.record.revokedAt !== null) return null;
      if (!timingSafeEqual(found.row.secret_sha256, digest(match[2] ?? ''))) return null;
      return { subject: `apikey:${found.record.id}`, role: found.record.role, tenantId: found.record.tenantId };
    },
    get(id) {
      return read(id)?.record ?? null;
    },
    revoke(id) {
      return markRevoked.run(now().toISOString(), id).changes > 0;
    },
  };
}
