import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { privateFile } from '../../files/private.ts';
import { isNovaCronError, NovaCronError } from '../../errors/index.ts';
import { createCatchUpSubscription, type CatchUpSource } from '../catch-up.ts';
import { StreamDeletedError } from '../errors.ts';
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
import { openConnection } from './connection.ts';
import type { Op, PreparedRow } from './group-commit.ts';
import { migrate } from './schema.ts';
import { EVENT_COLUMNS, StoredEvent, type DecodeData, type EventRow } from './stored-event.ts';
import { createLoopWriter, createWorkerWriter, type Writer } from './writer.ts';

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
  /**
   * Where group commits run. 'worker' (default): in a worker thread with its
   * own connection to the file, so the event loop goes on while a commit
   * fsyncs (writer.ts). 'loop': on the store's connection, in its thread, as
   * before the worker existed. A ':memory:' store, which no other connection
   * can open, always writes on the loop.
   */
  writer?: 'worker' | 'loop';
  /** Called after each group commit with its size and how long its transaction took. */
  onGroupCommit?: (commit: { ops: number; transactionMs: number }) => void;
  /** For tests: the writer worker's entry module. */
  writerEntry?: URL;
  now?: () => Date;
}

export interface SqliteEventStore extends EventStore {
  /** The connection's durability settings, read back from SQLite. */
  readonly settings: { journalMode: string; synchronous: 'full' | 'normal' | 'other' };
}

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
  writer: writeIn = 'worker',
  onGroupCommit,
  writerEntry,
  now = () => new Date(),
}: SqliteEventStoreOptions): SqliteEventStore {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('createSqliteEventStore: path is required');
  if (sync !== 'full' && sync !== 'normal') throw new TypeError(`createSqliteEventStore: sync must be 'full' or 'normal', got ${String(sync)}`);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError('createSqliteEventStore: maxBatch must be a positive integer');
  if (writeIn !== 'worker' && writeIn !== 'loop') throw new TypeError(`createSqliteEventStore: writer must be 'worker' or 'loop', got ${String(writeIn)}`);

  privateFile(path, dirname(path));
  // This connection serves every read; writes go through `writer` (see Writer in writer.ts).
  const db = openConnection(path, { sync, busyTimeoutMs });
  migrate(db);
  const writer: Writer =
    path === ':memory:' || writeIn === 'loop'
      ? createLoopWriter(db)
      : createWorkerWriter({ path, sync, busyTimeoutMs, ...(writerEntry ? { entry: writerEntry } : {}) });

  const sql = {
    stream: db.prepare<[string], StreamRow>('SELECT last_revision, status, metadata FROM streams WHERE stream_id = ?'),
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
    readSnapshot: db.prepare<[string], { revision: number; version: number; state: string }>(
      'SELECT revision, version, state FROM snapshots WHERE stream_id = ?',
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
  let closing: Promise<void> | null = null;
  let queue: Pending[] = [];
  let flushScheduled = false;
  const commitListeners = new Set<() => void>();
  const subscriptions = new Set<Subscription>();

  const assertOpen = () => {
    if (closed) throw new NovaCronError('NC_STORE_CLOSED', 'the event store is closed', { retriable: true });
  };

  /**
   * Group commit: every operation queued while the previous batch was being
   * written goes in the next batch (at most maxBatch), one IMMEDIATE
   * transaction (one fsync with synchronous=FULL) in the writer, each
   * operation with its own outcome (group-commit.ts). Results are handed out
   * only after COMMIT, then the subscriptions waiting for a commit wake up.
   */
  let inFlight: Promise<void> | null = null;
  function flush(): void {
    flushScheduled = false;
    if (inFlight || queue.length === 0) return;
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    inFlight = writer
      .commit(
        batch.map((pending) => pending.op),
        now().getTime(),
      )
      .then(
        ({ outcomes, transactionMs }) => {
          outcomes.forEach((outcome, i) => {
            const pending = batch[i] as Pending;
            if (outcome.ok) pending.resolve(outcome.result);
            else pending.reject(outcome.error);
          });
          onGroupCommit?.({ ops: batch.length, transactionMs });
          const listeners = [...commitListeners];
          commitListeners.clear();
          for (const listener of listeners) listener();
        },
        (cause: unknown) => {
          const error = isNovaCronError(cause, 'NC_STORE_UNAVAILABLE')
            ? cause
            : new NovaCronError('NC_STORE_UNAVAILABLE', `event store write failed: ${(cause as Error).message}`, { retriable: true, cause });
          for (const pending of batch) pending.reject(error);
        },
      )
      .finally(() => {
        inFlight = null;
        if (queue.length > 0) scheduleFlush();
      });
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
      // Through the writer as well: a write on this connection would wait on the loop for the writer's lock.
      await enqueue({ kind: 'snapshot', streamId, revision: snapshot.revision, version: snapshot.version, stateJson: JSON.stringify(snapshot.state) });
    },

    async headPosition(): Promise<number> {
      assertOpen();
      return sql.head.get()?.head ?? 0;
    },

    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        // What was appended before close is written: the batch in the writer, then whatever queued behind it.
        while (inFlight || queue.length > 0) {
          if (!inFlight) flush();
          await inFlight;
        }
        await Promise.all([...subscriptions].map((s) => s.stop()));
        const listeners = [...commitListeners];
        commitListeners.clear();
        for (const listener of listeners) listener();
        await writer.close();
        db.close();
      })();
      return closing;
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
