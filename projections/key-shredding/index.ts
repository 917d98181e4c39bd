/**
 * Crypto-shredding driven from the log: a process manager that destroys the data
 * key of every tenant whose TenantDeleted it reads. DELETE /v1/tenants/{id} tries
 * at once too, but only this makes it certain: a destruction that fails (the key
 * store busy, a disk error, a crash right after TenantDeleted was recorded) fails
 * the batch with a retriable error, so the processor retries it with backoff and,
 * after a restart, resumes from its checkpoint; never parks it (a skipped
 * TenantDeleted would leave the tenant's personal data readable for ever).
 * Destroying a destroyed key changes nothing, so a replay or a second process
 * doing the same is harmless. Until it is done the processor shows lag and its
 * failures (`novacron status`, /v1/admin/processors, the processor metrics).
 */
import type Database from 'better-sqlite3';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import type { SqliteProjection } from '../../streams/processing/projection.ts';

export const KEY_SHREDDING = 'key-shredding';

export interface KeyShredder {
  destroyDataKey(tenantId: string): void;
}

export interface KeyShreddingQueries {
  /** When the tenant's key was destroyed by this processor (ISO time), or null. */
  shreddedAt(tenantId: string): string | null;
  /** Tenants whose keys it has destroyed. */
  count(): number;
}

export function createKeyShreddingProjection(keys: KeyShredder, { now = () => new Date() }: { now?: () => Date } = {}): SqliteProjection<KeyShreddingQueries> {
  return {
    name: KEY_SHREDDING,
    version: 1,
    handles: ['TenantDeleted'],
    migrate(db: Database.Database) {
      db.exec(`CREATE TABLE IF NOT EXISTS shredded_tenants (
        tenant_id   TEXT PRIMARY KEY,
        position    INTEGER NOT NULL,
        shredded_at TEXT NOT NULL
      ) STRICT`);
    },
    apply(batch: readonly RecordedEvent[], db: Database.Database) {
      const record = db.prepare('INSERT INTO shredded_tenants (tenant_id, position, shredded_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING');
      for (const event of batch) {
        if (event.type !== 'TenantDeleted') continue;
        const tenantId = (event.data as { tenantId: string }).tenantId;
        try {
          keys.destroyDataKey(tenantId);
        } catch (error) {
          throw new NovaCronError('NC_KEY_SHREDDING_FAILED', `could not destroy the data key of deleted tenant ${tenantId}: ${error instanceof Error ? error.message : String(error)}; retrying with backoff`, {
            retriable: true,
            cause: error,
            details: { tenantId, position: event.position },
          });
        }
        record.run(tenantId, event.position, now().toISOString());
      }
    },
    queries(db: Database.Database) {
      const at = db.prepare<[string], { shredded_at: string }>('SELECT shredded_at FROM shredded_tenants WHERE tenant_id = ?');
      const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM shredded_tenants');
      return {
        shreddedAt: (tenantId: string) => at.get(tenantId)?.shredded_at ?? null,
        count: () => count.get()?.n ?? 0,
      };
    },
  };
}
