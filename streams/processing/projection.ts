import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../eventstore/index.ts';

/**
 * A projection on the embedded store: data, not wiring. Its processor writes
 * its own SQLite file through `apply`; its queries read the same file.
 * `version` names the shape of its tables and the meaning of `apply`: bump it
 * when either changes, and `novacron replay <name>` builds the new version from
 * the log while the old one keeps serving.
 */
export interface SqliteProjection<Queries> {
  name: string;
  version: number;
  handles: readonly string[];
  migrate(db: Database.Database): void;
  apply(batch: readonly RecordedEvent[], db: Database.Database): void;
  /**
   * Awaited before each `apply`, outside its transaction, with the same batch
   * and the projection's file to read (never write): where slow work the apply
   * will need goes, off the event loop, so the synchronous apply stays short
   * (see Processor.prepare). Optional; apply gives the same result without it.
   */
  prepare?(batch: readonly RecordedEvent[], db: Database.Database): Promise<void>;
  queries(db: Database.Database): Queries;
}

/** Erases the Queries type, for collections of projections. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySqliteProjection = SqliteProjection<any>;
