import type Database from 'better-sqlite3';

/**
 * Tables of the embedded event store.
 *
 * - events: the global log. `position` is the rowid (AUTOINCREMENT: never reused,
 *   and rolled back with its transaction, so positions have no gaps).
 * - streams: one row per stream ever touched: last revision, deletion status,
 *   stream metadata (maxAge, maxCount, truncateBefore, custom).
 * - snapshots: the latest snapshot of an aggregate's state per stream.
 */
export function migrate(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position     INTEGER PRIMARY KEY AUTOINCREMENT,
      stream_id    TEXT    NOT NULL,
      revision     INTEGER NOT NULL,
      category     TEXT    NOT NULL,
      type         TEXT    NOT NULL,
      event_id     TEXT    NOT NULL,
      data         TEXT    NOT NULL,
      metadata     TEXT    NOT NULL,
      recorded_at  INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream_id, revision);
    CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id);
    CREATE INDEX IF NOT EXISTS events_category ON events (category, position);
    CREATE INDEX IF NOT EXISTS events_type ON events (type, position);

    CREATE TABLE IF NOT EXISTS streams (
      stream_id      TEXT    PRIMARY KEY,
      last_revision  INTEGER NOT NULL DEFAULT -1,
      status         TEXT    NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'soft_deleted', 'tombstoned')),
      metadata       TEXT
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS snapshots (
      stream_id  TEXT    PRIMARY KEY,
      revision   INTEGER NOT NULL,
      version    INTEGER NOT NULL,
      state      TEXT    NOT NULL
    ) WITHOUT ROWID;
  `);
}
