import Database from 'better-sqlite3';

export interface ConnectionOptions {
  sync: 'full' | 'normal';
  busyTimeoutMs: number;
}

/**
 * A connection to the event store's file in WAL mode: the store's read
 * connection and the writer worker's write connection are both opened here,
 * so they agree on durability and on how long to wait for each other's locks.
 */
export function openConnection(path: string, { sync, busyTimeoutMs }: ConnectionOptions): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('foreign_keys = ON');
  return db;
}
