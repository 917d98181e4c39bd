import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { ApiDatabase } from '../api-db.ts';

/** Whose key it is: the same key from another principal or tenant is another record. */
export interface IdempotencyScope {
  subject: string;
  tenantId: string | null;
  key: string;
}

/** A stored answer, replayed byte for byte. */
export interface StoredAnswer {
  status: number;
  body: string;
  contentType: string | null;
  location: string | null;
}

export interface IdempotencyRecord {
  /** sha256 of method, URL and body of the request that first used the key. */
  requestHash: string;
  answer: StoredAnswer;
}

export interface IdempotencyStore {
  /** The live (unexpired) record of a key, if any. */
  find(scope: IdempotencyScope, nowMs: number): IdempotencyRecord | null;
  /** Stores the first answer for a key (an expired record of the same key is replaced, a live one kept). */
  save(scope: IdempotencyScope, record: IdempotencyRecord, nowMs: number): void;
  /** Deletes expired records; returns how many. */
  purgeExpired(nowMs: number): number;
}

interface Row {
  request_hash: string;
  sealed: Buffer;
}

interface LegacyRow {
  subject: string;
  tenant_id: string;
  key: string;
  request_hash: string;
  status: number;
  body: string;
  content_type: string | null;
  location: string | null;
  created_at: number;
  expires_at: number;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Where a key's record is found: a hash of principal, tenant and key. The key itself is
 * not stored, so the row cannot be tied to a key without knowing it.
 */
const scopeId = ({ subject, tenantId, key }: IdempotencyScope): string =>
  createHash('sha256').update(`novacron-idempotency-v1\0${subject}\0${tenantId ?? ''}\0${key}`).digest('hex');

/**
 * The answer's encryption key, derived (HKDF-SHA256) from the Idempotency-Key the client
 * holds: only a request presenting the key can read the answer back. An answer can hold a
 * secret (the key of `POST /v1/tenants/{id}/api-keys`); whoever reads api.db sees only
 * ciphertext. (A guessable Idempotency-Key can be guessed offline: clients use UUIDs.)
 */
const answerKey = ({ subject, tenantId, key }: IdempotencyScope): Buffer =>
  Buffer.from(hkdfSync('sha256', Buffer.from(key, 'utf8'), Buffer.from(`novacron-idempotency\0${subject}\0${tenantId ?? ''}`, 'utf8'), 'idempotent answer v1', 32));

function seal(scope: IdempotencyScope, id: string, answer: StoredAnswer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', answerKey(scope), iv);
  cipher.setAAD(Buffer.from(id, 'utf8'));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(answer), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
}

function open(scope: IdempotencyScope, id: string, sealed: Buffer): StoredAnswer | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', answerKey(scope), sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as StoredAnswer;
  } catch {
    return null; // not this key's (a hash collision is not a concern; a tampered row is)
  }
}

/**
 * Idempotency records in `api.db`, kept `ttlMs` after they are written. Each answer is
 * stored sealed (AES-256-GCM) under a key derived from the Idempotency-Key, found by a hash
 * of its scope; records of the earlier layout (answers in the clear) are sealed on open and
 * the old table dropped (secure_delete zeroes its pages).
 */
export function createIdempotencyStore(db: ApiDatabase, { ttlMs }: { ttlMs: number }): IdempotencyStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS idempotency_answers (
      scope_id     TEXT PRIMARY KEY,   -- sha256 of subject, tenant and key (see scopeId)
      request_hash TEXT NOT NULL,
      sealed       BLOB NOT NULL,      -- iv(12) | tag(16) | AES-256-GCM(answer JSON), aad = scope_id
      created_at   INTEGER NOT NULL,
      expires_at   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX IF NOT EXISTS idempotency_answers_by_expiry ON idempotency_answers (expires_at);
  `);
  const upsert = db.prepare(`
    INSERT INTO idempotency_answers (scope_id, request_hash, sealed, created_at, expires_at)
    VALUES (@scopeId, @requestHash, @sealed, @now, @expiresAt)
    ON CONFLICT (scope_id) DO UPDATE SET
      request_hash = excluded.request_hash, sealed = excluded.sealed,
      created_at = excluded.created_at, expires_at = excluded.expires_at
    WHERE idempotency_answers.expires_at <= excluded.created_at
  `);
  migrateCleartext(db, (scope, requestHash, answer, createdAt, expiresAt) => {
    const id = scopeId(scope);
    upsert.run({ scopeId: id, requestHash, sealed: seal(scope, id, answer), now: createdAt, expiresAt });
  });
  const select = db.prepare<[string, number], Row>('SELECT request_hash, sealed FROM idempotency_answers WHERE scope_id = ? AND expires_at > ?');
  const purge = db.prepare('DELETE FROM idempotency_answers WHERE expires_at <= ?');

  return {
    find(scope, nowMs) {
      const id = scopeId(scope);
      const row = select.get(id, nowMs);
      if (row === undefined) return null;
      const answer = open(scope, id, row.sealed);
      if (answer === null) return null;
      return { requestHash: row.request_hash, answer };
    },
    save(scope, { requestHash, answer }, nowMs) {
      const id = scopeId(scope);
      upsert.run({ scopeId: id, requestHash, sealed: seal(scope, id, answer), now: nowMs, expiresAt: nowMs + ttlMs });
    },
    purgeExpired(nowMs) {
      return purge.run(nowMs).changes;
    },
  };
}

/** Seals the records of the table answers used to be kept in, in the clear, then drops it. */
function migrateCleartext(db: ApiDatabase, save: (scope: IdempotencyScope, requestHash: string, answer: StoredAnswer, createdAt: number, expiresAt: number) => void): void {
  const legacy = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_keys'").get();
  if (legacy === undefined) return;
  db.transaction(() => {
    for (const row of db.prepare<[], LegacyRow>('SELECT * FROM idempotency_keys').all()) {
      save(
        { subject: row.subject, tenantId: row.tenant_id === '' ? null : row.tenant_id, key: row.key },
        row.request_hash,
        { status: row.status, body: row.body, contentType: row.content_type, location: row.location },
        row.created_at,
        row.expires_at,
      );
    }
    db.exec('DROP TABLE idempotency_keys');
  })();
  // Nothing of the clear answers may stay behind: not in free pages, not in the WAL.
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}
