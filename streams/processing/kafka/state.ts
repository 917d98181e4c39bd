import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../../eventstore/index.ts';
import { openSqliteStateStore, type SqliteStateOptions } from '../sqlite-state.ts';
import { createStreamRevisions } from '../stream-revisions.ts';
import type { ParkedEvent } from '../types.ts';
import { FencedBatchError } from './errors.ts';

/** A partition's checkpoint: the offset of the last message applied (-1: none). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

export interface KafkaCommit extends Omit<PartitionOffset, 'offset'> {
  /** The stored offset this instance read before the batch; the commit goes through only if it is still the stored one. */
  expected: number;
  /** Offset of the last message of the batch (the partition's new checkpoint). */
  offset: number;
  /** Every event of the batch (their streams' revisions are recorded), handled or not. */
  events: readonly RecordedEvent[];
  /** The projection's writes (synchronous). */
  work(db: Database.Database): void;
}

export interface KafkaParking extends Omit<KafkaCommit, 'work' | 'events'> {
  event: RecordedEvent;
  error: unknown;
}

export interface KafkaStateOptions extends Omit<SqliteStateOptions, 'beforeCommit'> {
  /** Test hook: runs inside the transaction after the writes, before COMMIT (fault injection, "mid-batch"). */
  beforeCommit?: (commit: Pick<KafkaCommit, 'topic' | 'partition' | 'expected' | 'offset'>) => void;
}

/**
 * The state store of a processor fed from Kafka: the projection's SQLite file
 * (as the embedded runner's) plus, in the same file,
 *
 *   kafka_offsets      per topic-partition: the offset of the last message applied
 *   stream_revisions   per stream: the last revision applied (session reads)
 *
 * written in the transaction of the projection's writes. The offset row is
 * also the fence: a commit moves it only from the value the instance read
 * before its batch (`UPDATE … WHERE offset = expected`). A zombie — an
 * instance that lost the partition in a rebalance, or was paused while
 * another took over — finds the row moved, and its whole batch is rolled back
 * (FencedBatchError). Any number of instances may share the file; a range of
 * offsets is applied exactly once.
 */
export function openKafkaStateStore({ beforeCommit, ...options }: KafkaStateOptions) {
  const state = openSqliteStateStore(options);
  const { db } = state;
  db.exec(`CREATE TABLE IF NOT EXISTS kafka_offsets (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
  ) WITHOUT ROWID`);
  const revisions = createStreamRevisions(db);

  const readOffset = db.prepare<[string, number], { offset: number }>('SELECT "offset" FROM kafka_offsets WHERE topic = ? AND partition = ?');
  const readAll = db.prepare<[], { topic: string; partition: number; offset: number }>('SELECT topic, partition, "offset" FROM kafka_offsets ORDER BY topic, partition');
  const ensure = db.prepare('INSERT OR IGNORE INTO kafka_offsets (topic, partition, "offset", updated_at) VALUES (?, ?, -1, ?)');
  const advance = db.prepare('UPDATE kafka_offsets SET "offset" = ?, updated_at = ? WHERE topic = ? AND partition = ? AND "offset" = ?');
  const insertParked = db.prepare('INSERT OR REPLACE INTO parked_events (position, stream_id, revision, type, error, parked_at) VALUES (?, ?, ?, ?, ?, ?)');
  const logCheckpoint = db.prepare<[], { position: number }>('SELECT position FROM processor_checkpoint WHERE id = 1');

  /** Moves the partition's offset from `expected` to `offset`, or throws FencedBatchError (the transaction rolls back). */
  function fence({ topic, partition, expected, offset }: Omit<KafkaCommit, 'events' | 'work'>): void {
    if (!(offset > expected)) throw new RangeError(`kafka commit of ${topic}[${partition}]: offset ${offset} is not after ${expected}`);
    const now = Date.now();
    ensure.run(topic, partition, now);
    if (advance.run(offset, now, topic, partition, expected).changes !== 1) {
      const stored = readOffset.get(topic, partition)?.offset ?? -1;
      throw new FencedBatchError(topic, partition, expected, stored);
    }
  }

  const commitTx = db.transaction((commit: KafkaCommit) => {
    fence(commit);
    const result: unknown = commit.work(db);
    if (result instanceof Promise) throw new TypeError('a SQLite processor must apply synchronously');
    revisions.record(commit.events);
    beforeCommit?.(commit);
  });
  const parkTx = db.transaction((parking: KafkaParking, message: string) => {
    fence(parking);
    const { event } = parking;
    insertParked.run(event.position, event.streamId, event.revision, event.type, message, Date.now());
    revisions.record([event]);
  });

  return {
    db,
    /** The stored offset of a partition: the last message applied, -1 when none. */
    offset(topic: string, partition: number): number {
      return readOffset.get(topic, partition)?.offset ?? -1;
    },
    offsets(): PartitionOffset[] {
      return readAll.all();
    },
    /** Applies a batch and moves the partition's offset, atomically; FencedBatchError when another instance moved it first. */
    commit(commit: KafkaCommit): void {
      commitTx.immediate(commit);
    },
    /** Parks an event the processor cannot apply and moves the offset past it, atomically (fenced like `commit`). */
    park(parking: KafkaParking): void {
      const { error } = parking;
      parkTx.immediate(parking, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    },
    /** The last revision of `streamId` the projection has applied, -1 when none. */
    appliedRevision(streamId: string): number {
      return revisions.revision(streamId);
    },
    /** True when the file was built by the embedded runner from the event store's log (its positions do not map to offsets). */
    builtFromLog(): boolean {
      return (logCheckpoint.get()?.position ?? 0) > 0 && readAll.all().length === 0;
    },
    parked(limit?: number): Promise<ParkedEvent[]> {
      return state.parked(limit);
    },
    parkedCount(): Promise<number> {
      return state.parkedCount();
    },
    close(): Promise<void> {
      return state.close();
    },
  };
}

export type KafkaStateStore = ReturnType<typeof openKafkaStateStore>;
