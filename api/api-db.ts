import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { privateFile } from '../streams/files/private.ts';

export type ApiDatabase = Database.Database;

/**
 * `<dataDir>/api.db`: the API's own state (API keys, idempotency records),
 * apart from the event store. WAL, so several API processes can share it.
 */
export function openApiDatabase(path: string, { sync = 'full' }: { sync?: 'full' | 'normal' } = {}): ApiDatabase {
  privateFile(path, dirname(path));
  const db = new Database(path);
  // Deleted and overwritten rows (revoked keys, expired answers) are zeroed, not left in free pages.
  db.pragma('secure_delete = ON');
  db.pragma('journal_mode = WAL');
  // As the event store (NOVACRON_SQLITE_SYNC): an acknowledged key or idempotent answer survives a power loss.
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  return db;
}
