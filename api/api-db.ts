import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type ApiDatabase = Database.Database;

/**
 * `<dataDir>/api.db`: the API's own state (API keys, idempotency records),
 * apart from the event store. WAL, so several API processes can share it.
 */
export function openApiDatabase(path: string, { sync = 'full' }: { sync?: 'full' | 'normal' } = {}): ApiDatabase {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // As the event store (NOVACRON_SQLITE_SYNC): an acknowledged key or idempotent answer survives a power loss.
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  return db;
}
