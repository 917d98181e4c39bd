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
  status: number;
  body: string;
  content_type: string | null;
  location: string | null;
}

/** Idempotency records in `api.db`, kept `ttlMs` after they are written. */
export function createIdempotencyStore(db: ApiDatabase, { ttlMs }: { ttlMs: number }): IdempotencyStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS idempotency_keys (
      subject      TEXT NOT NULL,
      tenant_id    TEXT NOT NULL,  -- '' for operators
      key          TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      status       INTEGER NOT NULL,
      body         TEXT NOT NULL,
      content_type TEXT,
      location     TEXT,
      created_at   INTEGER NOT NULL,
      expires_at   INTEGER NOT NULL,
      PRIMARY KEY (subject, tenant_id, key)
    ) STRICT;
    CREATE INDEX IF NOT EXISTS idempotency_keys_by_expiry ON idempotency_keys (expires_at);
  `);
  const select = db.prepare<[string, string, string, number], Row>(
    'SELECT request_hash, status, body, content_type, location FROM idempotency_keys WHERE subject = ? AND tenant_id = ? AND key = ? AND expires_at > ?',
  );
  const upsert = db.prepare(`
    INSERT INTO idempotency_keys (subject, tenant_id, key, request_hash, status, body, content_type, location, created_at, expires_at)
    VALUES (@subject, @tenantId, @key, @requestHash, @status, @body, @contentType, @location, @now, @expiresAt)
    ON CONFLICT (subject, tenant_id, key) DO UPDATE SET
      request_hash = excluded.request_hash, status = excluded.status, body = excluded.body,
      content_type = excluded.content_type, location = excluded.location,
      created_at = excluded.created_at, expires_at = excluded.expires_at
    WHERE idempotency_keys.expires_at <= excluded.created_at
  `);
  const purge = db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?');

  return {
    find({ subject, tenantId, key }, nowMs) {
      const row = select.get(subject, tenantId ?? '', key, nowMs);
      if (row === undefined) return null;
      return {
        requestHash: row.request_hash,
        answer: { status: row.status, body: row.body, contentType: row.content_type, location: row.location },
      };
    },
    save({ subject, tenantId, key }, { requestHash, answer }, nowMs) {
      upsert.run({
        subject,
        tenantId: tenantId ?? '',
        key,
        requestHash,
        status: answer.status,
        body: answer.body,
        contentType: answer.contentType,
        location: answer.location,
        now: nowMs,
        expiresAt: nowMs + ttlMs,
      });
    },
    purgeExpired(nowMs) {
      return purge.run(nowMs).changes;
    },
  };
}
