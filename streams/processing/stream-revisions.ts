import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../eventstore/index.ts';

/**
 * Per stream, the revision (and position) of the last event a projection has
 * applied: what a session read by `<streamId>@<revision>` waits on when the
 * log reaches the projection in per-stream order (Kafka: one partition per
 * stream, no global order across partitions). The runtime writes it in the
 * same transaction as the projection's writes. A projection that keeps its own
 * table of that name and shape (the inventory does) shares it: both only ever
 * move a stream's revision forward.
 */
export function migrateStreamRevisions(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS stream_revisions (
    stream_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    position INTEGER NOT NULL
  ) WITHOUT ROWID`);
}

export interface StreamRevisions {
  /** Records the last revision of every stream in `batch` (call inside the commit's transaction). */
  record(batch: readonly RecordedEvent[]): void;
  /** The last revision applied of `streamId`, -1 when none. */
  revision(streamId: string): number;
}

export function createStreamRevisions(db: Database.Database): StreamRevisions {
  migrateStreamRevisions(db);
  const upsert = db.prepare(`
    INSERT INTO stream_revisions (stream_id, revision, position) VALUES (?, ?, ?)
    ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, position = excluded.position
    WHERE excluded.revision > stream_revisions.revision`);
  const read = db.prepare<[string], { revision: number }>('SELECT revision FROM stream_revisions WHERE stream_id = ?');
  return {
    record(batch) {
      const last = new Map<string, RecordedEvent>();
      for (const event of batch) {
        const seen = last.get(event.streamId);
        if (!seen || event.revision > seen.revision) last.set(event.streamId, event);
      }
      for (const event of last.values()) upsert.run(event.streamId, event.revision, event.position);
    },
    revision(streamId) {
      return read.get(streamId)?.revision ?? -1;
    },
  };
}
