import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { privateFile } from '../../files/private.ts';
import { NovaCronError } from '../../errors/index.ts';
import { createCatchUpSubscription, type CatchUpSource } from '../catch-up.ts';
import { expectationHolds, StreamDeletedError, WrongExpectedRevisionError } from '../errors.ts';
import { assertEventSize, completeMetadata } from '../new-event.ts';
import type {
  AppendOptions,
  AppendResult,
  EventCodec,
  EventFilter,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  Snapshot,
  StreamMetadata,
  StreamState,
  Subscription,
} from '../port.ts';
import { parseStreamId } from '../stream-id.ts';
import { migrate } from './schema.ts';
import { EVENT_COLUMNS, StoredEvent, type DecodeData, type EventRow } from './stored-event.ts';

export interface SqliteEventStoreOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /** Validation, upcasting and encryption of event data. */
  codec: EventCodec;
  /**
   * 'full' (default): every group commit is fsynced before any append in it is
   * acknowledged. 'normal': WAL commits are not fsynced; the last commits may be
   * lost on power loss (not on a process crash).
   */
  sync?: 'full' | 'normal';
  /** Most operations written in one group commit. */
  maxBatch?: number;
  /** How often an idle subscription looks for events written by other processes. */
  pollIntervalMs?: number;
  /** Milliseconds to wait for another process's write lock before failing. */
  busyTimeoutMs?: number;
  now?: () => Date;
}

export interface SqliteEventStore extends EventStore {
  /** The connection's durability settings, read back from SQLite. */
  readonly settings: { journalMode: string; synchronous: 'full' | 'normal' | 'other' };
}

interface PreparedRow {
  type: string;
  eventId: string;
  dataJson: string;
  metadataJson: string;
}

type Op =
  | { kind: 'append'; streamId: string; category: string; rows: PreparedRow[]; expected: ExpectedRevision }
  | { kind: 'delete' | 'tombstone'; streamId: string; expected: ExpectedRevision }
  | { kind: 'metadata'; streamId: string; metadata: StreamMetadata };

interface Pending {
  op: Op;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

interface StreamRow {
  last_revision: number;
  status: 'live' | 'soft_deleted' | 'tombstoned';
  metadata: string | null;
}

export function createSqliteEventStore({
  path,
  codec,
  sync = 'full',
  maxBatch = 2048,
  pollIntervalMs = 250,
  busyTimeoutMs = 5000,
  now = () => new Date(),
}: SqliteEventStoreOptions): SqliteEventStore {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('createSqliteEventStore: path is required');
  if (sync !== 'full' && sync !== 'normal') throw new TypeError(`createSqliteEventStore: sync must be 'full' or 'normal', got ${String(sync)}`);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError('createSqliteEventStore: maxBatch must be a positive integer');

  privateFile(path, dirname(path));
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('foreign_keys = ON');
  migrate(db);

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
    streamForwards: db
      .prepare<[string, number, number, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE stream_id = ? AND revision >= ? AND revision >= ? AND recorded_at >= ? ORDER BY revision ASC LIMIT ?`,
      )
      .raw(),
    streamBackwards: db
      .prepare<[string, number, number, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE stream_id = ? AND revision <= ? AND revision >= ? AND recorded_at >= ? ORDER BY revision DESC LIMIT ?`,
      )
      .raw(),
    head: db.prepare<[], { head: number | null }>('SELECT MAX(position) AS head FROM events'),
    deleteSnapshot: db.prepare('DELETE FROM snapshots WHERE stream_id = ?'),
    readSnapshot: db.prepare<[string], { revision: number; version: number; state: string }>(
      'SELECT revision, version, state FROM snapshots WHERE stream_id = ?',
    ),
    writeSnapshot: db.prepare(
      `INSERT INTO snapshots (stream_id, revision, version, state) VALUES (?, ?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, version = excluded.version, state = excluded.state
       WHERE excluded.revision >= snapshots.revision OR excluded.version <> snapshots.version`,
    ),
  };

  const readAllStatements = new Map<string, Database.Statement<unknown[], EventRow>>();
  function readAllStatement(direction: 'forwards' | 'backwards', categories: number, types: number) {
    const key = `${direction}:${categories}:${types}`;
    let statement = readAllStatements.get(key);
    if (!statement) {
      const where = [direction === 'forwards' ? 'position >= ?' : 'position <= ?'];
      if (categories > 0) where.push(`category IN (${Array(categories).fill('?').join(', ')})`);
      if (types > 0) where.push(`type IN (${Array(types).fill('?').join(', ')})`);
      statement = db
        .prepare<unknown[], EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')}
           ORDER BY position ${direction === 'forwards' ? 'ASC' : 'DESC'} LIMIT ?`,
        )
        .raw();
      readAllStatements.set(key, statement);
    }
    return statement;
  }

  let closed = false;
  let queue: Pending[] = [];
  let flushScheduled = false;
  const commitListeners = new Set<() => void>();
  const subscriptions = new Set<Subscription>();

  const assertOpen = () => {
    if (closed) throw new NovaCronError('NC_STORE_CLOSED', 'the event store is closed', { retriable: true });
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

  function applyOp(op: Op, recordedAt: number): AppendResult {
    switch (op.kind) {
      case 'append':
        return applyAppend(op, recordedAt);
      case 'delete':
      case 'tombstone':
        return applyDelete(op);
      case 'metadata':
        return applyMetadata(op);
      default: {
        const never: never = op;
        throw new Error(`unknown operation ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Group commit: every operation queued since the last flush is written in one
   * IMMEDIATE transaction (one fsync with synchronous=FULL). Each keeps its own
   * expected-revision check: a failed check throws before that operation writes
   * anything, so it fails alone. Results are handed out only after COMMIT.
   */
  const groupCommit = db.transaction((batch: Pending[], recordedAt: number) =>
    batch.map((pending) => {
      try {
        return { ok: true as const, result: applyOp(pending.op, recordedAt) };
      } catch (error) {
        if (error instanceof NovaCronError) return { ok: false as const, error };
        throw error;
      }
    }),
  );

  function flush(): void {
    flushScheduled = false;
    if (queue.length === 0) return;
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    if (queue.length > 0) scheduleFlush();
    let outcomes;
    try {
      outcomes = groupCommit.immediate(batch, now().getTime());
    } catch (cause) {
      const error = new NovaCronError('NC_STORE_UNAVAILABLE', `event store write failed: ${(cause as Error).message}`, {
        retriable: true,
        cause,
      });
      for (const pending of batch) pending.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const pending = batch[i] as Pending;
      if (outcome.ok) pending.resolve(outcome.result);
      else pending.reject(outcome.error);
    });
    const listeners = [...commitListeners];
    commitListeners.clear();
    for (const listener of listeners) listener();
  }

  function scheduleFlush(): void {
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }

  function enqueue(op: Op): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      queue.push({ op, resolve, reject });
      scheduleFlush();
    });
  }

  function prepareRows(streamId: string, events: readonly NewEvent[]): PreparedRow[] {
    if (!Array.isArray(events)) throw new NovaCronError('NC_VALIDATION', 'events must be an array', { details: { field: 'events' } });
    const clock = now();
    const seen = new Set<string>();
    return events.map((event) => {
      const metadata = completeMetadata(event, clock);
      if (seen.has(metadata.eventId)) {
        throw new NovaCronError('NC_VALIDATION', `event id ${metadata.eventId} appears twice in one append`, {
          details: { field: 'metadata.eventId', streamId },
        });
      }
      seen.add(metadata.eventId);
      const encoded = codec.encode(event.type, event.data, metadata.tenantId);
      const full: EventMetadata = { ...metadata, schemaVersion: encoded.schemaVersion };
      const dataJson = JSON.stringify(encoded.data);
      const metadataJson = JSON.stringify(full);
      assertEventSize(event.type, dataJson, metadataJson);
      return { type: event.type, eventId: metadata.eventId, dataJson, metadataJson };
    });
  }

  function normalizeExpected(expected: unknown): ExpectedRevision {
    if (expected === undefined) return 'any';
    if (expected === 'any' || expected === 'no_stream' || expected === 'exists') return expected;
    if (typeof expected === 'number' && Number.isInteger(expected) && expected >= 0) return expected;
    throw new NovaCronError('NC_VALIDATION', `expectedRevision must be 'no_stream', 'exists', 'any' or a revision >= 0`, {
      details: { field: 'expectedRevision' },
    });
  }

  /**
   * Event data is decoded (parsed, decrypted, upcast) on first access, and
   * metadata parsed, so a reader that skips an event, such as a processor that
   * does not handle its type, never pays for it (stored-event.ts).
   */
  function toRecorded(row: EventRow, raw = false): RecordedEvent {
    return new StoredEvent(row, raw ? undecoded : decoded);
  }
  const decoded: DecodeData = (type, data, metadata) => codec.decode(type, JSON.parse(data), metadata.schemaVersion, metadata.tenantId);
  const undecoded: DecodeData = (type, data, metadata) => codec.seal(type, JSON.parse(data) as Record<string, unknown>, metadata.schemaVersion, metadata.tenantId);

  function readAllSync({ direction = 'forwards', fromPosition, maxCount = 4096, filter, raw = false }: ReadAllOptions = {}): RecordedEvent[] {
    const categories = filter?.categories ?? [];
    const types = filter?.eventTypes ?? [];
    let from: number;
    if (fromPosition === undefined || fromPosition === 'start') from = direction === 'forwards' ? 0 : Number.MAX_SAFE_INTEGER;
    else if (fromPosition === 'end') from = direction === 'forwards' ? Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
    else from = fromPosition;
    if (fromPosition === 'start' && direction === 'backwards') return [];
    return readAllStatement(direction, categories.length, types.length)
      .all(from, ...categories, ...types, maxCount)
      .map((row) => toRecorded(row, raw));
  }

  const catchUpSource = (raw: boolean): CatchUpSource => ({
    readPage: (afterPosition: number, maxCount: number, filter: EventFilter | undefined) => {
      assertOpen();
      return readAllSync({ fromPosition: afterPosition + 1, maxCount, filter, raw });
    },
    onNextCommit(wake) {
      const timer = setTimeout(fire, pollIntervalMs);
      timer.unref?.();
      function fire() {
        clearTimeout(timer);
        commitListeners.delete(fire);
        wake();
      }
      commitListeners.add(fire);
      return () => {
        clearTimeout(timer);
        commitListeners.delete(fire);
      };
    },
  });

  const synchronous = db.pragma('synchronous', { simple: true });
  const settings = {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: synchronous === 2 ? ('full' as const) : synchronous === 1 ? ('normal' as const) : ('other' as const),
  };

  return {
    settings,
    async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
      assertOpen();
      const { category } = parseStreamId(streamId);
      const expected = normalizeExpected(options.expectedRevision);
      const rows = prepareRows(streamId, events);
      return enqueue({ kind: 'append', streamId, category, rows, expected });
    },

    async readStream(streamId: string, { direction = 'forwards', fromRevision, maxCount = Number.MAX_SAFE_INTEGER }: ReadStreamOptions = {}) {
      assertOpen();
      parseStreamId(streamId);
      const stream = sql.stream.get(streamId);
      if (!stream) return [];
      if (stream.status === 'tombstoned') throw new StreamDeletedError(streamId);
      if (stream.status === 'soft_deleted') return [];
      const metadata: StreamMetadata = stream.metadata ? JSON.parse(stream.metadata) : {};
      let lowest = metadata.truncateBefore ?? 0;
      if (metadata.maxCount !== undefined) lowest = Math.max(lowest, stream.last_revision - metadata.maxCount + 1);
      const oldest = metadata.maxAge !== undefined ? now().getTime() - metadata.maxAge * 1000 : 0;
      const rows =
        direction === 'forwards'
          ? sql.streamForwards.all(streamId, typeof fromRevision === 'number' ? fromRevision : 0, lowest, oldest, maxCount)
          : sql.streamBackwards.all(
              streamId,
              typeof fromRevision === 'number' ? fromRevision : fromRevision === 'start' ? 0 : Number.MAX_SAFE_INTEGER,
              lowest,
              oldest,
              maxCount,
            );
      return rows.map((row) => toRecorded(row));
    },

    async readAll(options?: ReadAllOptions) {
      assertOpen();
      return readAllSync(options);
    },

    subscribeToAll(options = {}) {
      assertOpen();
      const subscription = createCatchUpSubscription(catchUpSource(options.raw === true), options);
      subscriptions.add(subscription);
      const stop = subscription.stop;
      subscription.stop = async () => {
        subscriptions.delete(subscription);
        await stop();
      };
      return subscription;
    },

    async streamState(streamId: string): Promise<StreamState> {
      assertOpen();
      parseStreamId(streamId);
      const stream = sql.stream.get(streamId);
      if (!stream) return { status: 'none', lastRevision: -1 };
      if (stream.status === 'live' && stream.last_revision < 0) return { status: 'none', lastRevision: -1 };
      return { status: stream.status, lastRevision: stream.last_revision };
    },

    async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
      assertOpen();
      parseStreamId(streamId);
      const stream = sql.stream.get(streamId);
      return stream?.metadata ? JSON.parse(stream.metadata) : {};
    },

    async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
      assertOpen();
      parseStreamId(streamId);
      validateStreamMetadata(metadata);
      await enqueue({ kind: 'metadata', streamId, metadata });
    },

    async deleteStream(streamId: string, options: AppendOptions = {}): Promise<void> {
      assertOpen();
      parseStreamId(streamId);
      await enqueue({ kind: 'delete', streamId, expected: normalizeExpected(options.expectedRevision) });
    },

    async tombstoneStream(streamId: string, options: AppendOptions = {}): Promise<void> {
      assertOpen();
      parseStreamId(streamId);
      await enqueue({ kind: 'tombstone', streamId, expected: normalizeExpected(options.expectedRevision) });
    },

    async readSnapshot<State>(streamId: string): Promise<Snapshot<State> | null> {
      assertOpen();
      const row = sql.readSnapshot.get(streamId);
      return row ? { revision: row.revision, version: row.version, state: JSON.parse(row.state) as State } : null;
    },

    async writeSnapshot<State>(streamId: string, snapshot: Snapshot<State>): Promise<void> {
      assertOpen();
      parseStreamId(streamId);
      const stream = sql.stream.get(streamId);
      if (!stream || stream.status !== 'live' || snapshot.revision > stream.last_revision) return;
      sql.writeSnapshot.run(streamId, snapshot.revision, snapshot.version, JSON.stringify(snapshot.state));
    },

    async headPosition(): Promise<number> {
      assertOpen();
      return sql.head.get()?.head ?? 0;
    },

    async close(): Promise<void> {
      if (closed) return;
      while (queue.length > 0) flush();
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.stop()));
      const listeners = [...commitListeners];
      commitListeners.clear();
      for (const listener of listeners) listener();
      db.close();
    },
  };
}

function validateStreamMetadata(metadata: StreamMetadata): void {
  if (metadata === null || typeof metadata !== 'object') {
    throw new NovaCronError('NC_VALIDATION', 'stream metadata must be an object', { details: { field: 'metadata' } });
  }
  for (const field of ['maxAge', 'maxCount', 'truncateBefore'] as const) {
    const value = metadata[field];
    if (value !== undefined && (!Number.isInteger(value) || value < (field === 'truncateBefore' ? 0 : 1))) {
      throw new NovaCronError('NC_VALIDATION', `stream metadata ${field} must be a ${field === 'truncateBefore' ? 'non-negative' : 'positive'} integer`, {
        details: { field },
      });
    }
  }
}
