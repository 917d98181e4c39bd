import type Database from 'better-sqlite3';
import { NovaCronError } from '../../errors/index.ts';
import { expectationHolds, StreamDeletedError, WrongExpectedRevisionError } from '../errors.ts';
import type { AppendResult, ExpectedRevision, StreamMetadata } from '../port.ts';

/** An event encoded in the main thread (prepareRows in store.ts): plain data a worker can be sent. */
export interface PreparedRow {
  type: string;
  eventId: string;
  dataJson: string;
  metadataJson: string;
}

/** A write queued for the next group commit. Plain data: it is posted to the writer worker as it is. */
export type Op =
  | { kind: 'append'; streamId: string; category: string; rows: PreparedRow[]; expected: ExpectedRevision }
  | { kind: 'delete' | 'tombstone'; streamId: string; expected: ExpectedRevision }
  | { kind: 'metadata'; streamId: string; metadata: StreamMetadata }
  | { kind: 'snapshot'; streamId: string; revision: number; version: number; stateJson: string };

/** One operation's result in a committed batch: its own failure (a NovaCronError) does not fail the others. */
export type Outcome = { ok: true; result: AppendResult } | { ok: false; error: NovaCronError };

interface StreamRow {
  last_revision: number;
  status: 'live' | 'soft_deleted' | 'tombstoned';
  metadata: string | null;
}

/**
 * The write side of the embedded event store, on one connection: in the
 * store's own thread for ':memory:', in the writer worker (writer-worker.ts)
 * for a file.
 *
 * Group commit: every operation of a batch is written in one IMMEDIATE
 * transaction (one fsync with synchronous=FULL). Each keeps its own
 * expected-revision check: a failed check throws before that operation writes
 * anything, so it fails alone. Any other error rolls the whole batch back and
 * is thrown.
 */
export function createGroupCommit(db: Database.Database): (ops: readonly Op[], recordedAt: number) => Outcome[] {
  const sql = {
    eventById: db.prepare<[string], { stream_id: string; revision: number; position: number }>(
      'SELECT stream_id, revision, position FROM events WHERE event_id = ?',
    ),
    stream: db.prepare<[string], StreamRow>('SELECT last_revision, status, metadata FROM streams WHERE stream_id = ?'),
    insertEvent: db.prepare(
      'INSERT INTO events (stream_id, revision, category, type, event_id, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    upsertStream: db.prepare(
      `INSERT INTO streams (stream_id, last_revision, status) VALUES (?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET last_revision = excluded.last_revision, status = excluded.status`,
    ),
    setStatus: db.prepare('UPDATE streams SET status = ?, metadata = ? WHERE stream_id = ?'),
    upsertMetadata: db.prepare(
      `INSERT INTO streams (stream_id, last_revision, status, metadata) VALUES (?, -1, 'live', ?)
       ON CONFLICT (stream_id) DO UPDATE SET metadata = excluded.metadata`,
    ),
    lastPositionOfStream: db.prepare<[string], { position: number }>(
      'SELECT position FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1',
    ),
    deleteSnapshot: db.prepare('DELETE FROM snapshots WHERE stream_id = ?'),
    writeSnapshot: db.prepare(
      `INSERT INTO snapshots (stream_id, revision, version, state) VALUES (?, ?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, version = excluded.version, state = excluded.state
       WHERE excluded.revision >= snapshots.revision OR excluded.version <> snapshots.version`,
    ),
  };

  const currentRevision = (row: StreamRow | undefined): number | 'no_stream' =>
    !row || row.status === 'soft_deleted' || row.last_revision < 0 ? 'no_stream' : row.last_revision;

  function checkExpectation(streamId: string, row: StreamRow | undefined, expected: ExpectedRevision): void {
    if (row?.status === 'tombstoned') throw new StreamDeletedError(streamId);
    // As in EventStoreDB, a soft-deleted stream takes `no_stream` and also its last revision (the one streamState reports).
    if (row?.status === 'soft_deleted' && expected === row.last_revision) return;
    const current = currentRevision(row);
    if (!expectationHolds(expected, current)) throw new WrongExpectedRevisionError(streamId, expected, current);
  }

  /** Appending event ids that are already stored: the original result when they are the same events in the same place, else an error. */
  function replayedAppend(op: Extract<Op, { kind: 'append' }>, first: { stream_id: string; revision: number }): AppendResult {
    let last = { revision: -1, position: 0 };
    op.rows.forEach((row, i) => {
      const stored = sql.eventById.get(row.eventId);
      if (!stored || stored.stream_id !== op.streamId || stored.revision !== first.revision + i) {
        throw new NovaCronError(
          'NC_IDEMPOTENCY_MISMATCH',
          `event ${row.eventId} does not match what was stored for these event ids in ${first.stream_id}`,
          { details: { streamId: op.streamId, eventId: row.eventId, storedIn: stored?.stream_id ?? null } },
        );
      }
      last = { revision: stored.revision, position: stored.position };
    });
    return last;
  }

  function applyAppend(op: Extract<Op, { kind: 'append' }>, recordedAt: number): AppendResult {
    const stream = sql.stream.get(op.streamId);
    // The tombstone first, as EventStoreDB: a retry of events stored before it answers StreamDeleted, not their old result.
    if (stream?.status === 'tombstoned') throw new StreamDeletedError(op.streamId);
    const firstRow = op.rows[0];
    if (firstRow) {
      const first = sql.eventById.get(firstRow.eventId);
      if (first) return replayedAppend(op, first);
      for (const row of op.rows) {
        if (sql.eventById.get(row.eventId)) {
          throw new NovaCronError('NC_IDEMPOTENCY_MISMATCH', `event ${row.eventId} is already stored elsewhere`, {
            details: { streamId: op.streamId, eventId: row.eventId },
          });
        }
      }
    }
    checkExpectation(op.streamId, stream, op.expected);
    let revision = stream ? stream.last_revision : -1;
    if (!firstRow) {
      return { revision, position: sql.lastPositionOfStream.get(op.streamId)?.position ?? 0 };
    }
    let position = 0;
    for (const row of op.rows) {
      revision += 1;
      const info = sql.insertEvent.run(
        op.streamId, revision, op.category, row.type, row.eventId, row.dataJson, row.metadataJson, recordedAt,
      );
      position = Number(info.lastInsertRowid);
    }
    sql.upsertStream.run(op.streamId, revision, 'live');
    return { revision, position };
  }

  function applyDelete(op: Extract<Op, { kind: 'delete' | 'tombstone' }>): AppendResult {
    const stream = sql.stream.get(op.streamId);
    checkExpectation(op.streamId, stream, op.expected);
    const lastRevision = stream?.last_revision ?? -1;
    const metadata: StreamMetadata = stream?.metadata ? JSON.parse(stream.metadata) : {};
    if (op.kind === 'delete') metadata.truncateBefore = lastRevision + 1;
    sql.upsertStream.run(op.streamId, lastRevision, op.kind === 'delete' ? 'soft_deleted' : 'tombstoned');
    sql.setStatus.run(op.kind === 'delete' ? 'soft_deleted' : 'tombstoned', JSON.stringify(metadata), op.streamId);
    sql.deleteSnapshot.run(op.streamId);
    return { revision: lastRevision, position: sql.lastPositionOfStream.get(op.streamId)?.position ?? 0 };
  }

  function applyMetadata(op: Extract<Op, { kind: 'metadata' }>): AppendResult {
    const stream = sql.stream.get(op.streamId);
    if (stream?.status === 'tombstoned') throw new StreamDeletedError(op.streamId);
    if (stream?.status === 'soft_deleted') {
      // As in EventStoreDB, new metadata undeletes a soft-deleted stream; the truncation the delete set stays, so its events stay gone.
      const deleted: StreamMetadata = stream.metadata ? JSON.parse(stream.metadata) : {};
      const truncateBefore = Math.max(op.metadata.truncateBefore ?? 0, deleted.truncateBefore ?? stream.last_revision + 1);
      sql.setStatus.run('live', JSON.stringify({ ...op.metadata, truncateBefore }), op.streamId);
      return { revision: stream.last_revision, position: 0 };
    }
    sql.upsertMetadata.run(op.streamId, JSON.stringify(op.metadata));
    return { revision: stream?.last_revision ?? -1, position: 0 };
  }

  /** A snapshot of a live stream at a revision it has; otherwise (or when an older one is offered) nothing is written. */
  function applySnapshot(op: Extract<Op, { kind: 'snapshot' }>): AppendResult {
    const stream = sql.stream.get(op.streamId);
    if (!stream || stream.status !== 'live' || op.revision > stream.last_revision) return { revision: stream?.last_revision ?? -1, position: 0 };
    sql.writeSnapshot.run(op.streamId, op.revision, op.version, op.stateJson);
    return { revision: stream.last_revision, position: 0 };
  }

  function applyOp(op: Op, recordedAt: number): AppendResult {
    switch (op.kind) {
      case 'append':
        return applyAppend(op, recordedAt);
      case 'delete':
      case 'tombstone':
        return applyDelete(op);
      case 'metadata':
        return applyMetadata(op);
      case 'snapshot':
        return applySnapshot(op);
      default: {
        const never: never = op;
        throw new Error(`unknown operation ${JSON.stringify(never)}`);
      }
    }
  }

  const transaction = db.transaction((ops: readonly Op[], recordedAt: number): Outcome[] =>
    ops.map((op) => {
      try {
        return { ok: true, result: applyOp(op, recordedAt) };
      } catch (error) {
        if (error instanceof NovaCronError) return { ok: false, error };
        throw error;
      }
    }),
  );
  return (ops, recordedAt) => transaction.immediate(ops, recordedAt);
}
