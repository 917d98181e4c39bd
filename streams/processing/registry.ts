import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { privateFile } from '../files/private.ts';

/**
 * Which generation of each projection is active. A replay builds generation
 * g+1 in its own file while g serves, then switches here in one statement;
 * every process reading projections follows the switch.
 */
export function openProjectionRegistry(path: string) {
  privateFile(path, dirname(path));
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS active_generation (
    name TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    version INTEGER NOT NULL,
    switched_at INTEGER NOT NULL
  ) WITHOUT ROWID`);
  const get = db.prepare<[string], { generation: number; version: number }>('SELECT generation, version FROM active_generation WHERE name = ?');
  const insert = db.prepare('INSERT OR IGNORE INTO active_generation (name, generation, version, switched_at) VALUES (?, 1, ?, ?)');
  const update = db.prepare('UPDATE active_generation SET generation = ?, version = ?, switched_at = ? WHERE name = ? AND generation = ?');
  return {
    /** The active generation, registering generation 1 on first sight. */
    active(name: string, version: number): { generation: number; version: number } {
      insert.run(name, version, Date.now());
      return get.get(name) as { generation: number; version: number };
    },
    current(name: string): { generation: number; version: number } | undefined {
      return get.get(name);
    },
    /** Switches from `from` to `to`; false when someone else switched first. */
    switchTo(name: string, from: number, to: number, version: number): boolean {
      return update.run(to, version, Date.now(), name, from).changes === 1;
    },
    close(): void {
      if (db.open) db.close();
    },
  };
}

export type ProjectionRegistry = ReturnType<typeof openProjectionRegistry>;
