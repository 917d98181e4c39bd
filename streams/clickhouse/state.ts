/**
 * The processor state store on ClickHouse. ClickHouse has no transactions, so
 * a commit cannot make the writes and the checkpoint one atomic step as the
 * SQLite store does; instead every write is idempotent and the checkpoint is
 * written last:
 *
 * 1. the batch's rows are inserted into the processor's tables, each a
 *    ReplacingMergeTree whose sorting key identifies the row (for a fact, the
 *    event's stream and revision), so inserting the same row again collapses;
 * 2. the processor's state (what it must remember between batches: a VM's
 *    open interval, a node's ledger) is inserted into `processor_state` as new
 *    versions keyed by (processor, key, position of the batch's last event);
 * 3. then the checkpoint: a row (processor, position) in
 *    `processor_checkpoints`, read back as max(position).
 *
 * A crash anywhere before 3 leaves the checkpoint where it was: the batch is
 * applied again from the same state, which the processor reads *as of the
 * checkpoint* (`argMax(value, position) … WHERE position <= checkpoint`), so
 * versions the crashed attempt wrote are invisible and the same rows come out
 * again, whatever the new batch boundaries. Nothing is lost, nothing counted
 * twice; a reader of the tables sees the crashed attempt's rows a little early
 * (they are the rows the retry writes).
 *
 * Reads must see one row per key before ClickHouse merges parts: use FINAL
 * (or GROUP BY the key with argMax over the version column), as the queries
 * here do. 18.16 and current releases both support both.
 *
 * Parked events go to `processor_parked` (ReplacingMergeTree keyed by
 * processor and position), before the checkpoint moves past them.
 *
 * Old state versions are removed by compaction (compaction.ts): every N
 * commits or M minutes, in the background, the state as of the checkpoint is
 * written again at the checkpoint and the versions below it are deleted
 * (`ALTER … DELETE`, a mutation). Versions above the checkpoint (a commit in
 * flight, a crashed attempt) are never touched. A store that would read state
 * as of a checkpoint below the compaction floor (a second instance of the
 * processor, lagging behind the one that compacted) fails with
 * FatalProcessorError rather than read a state that is no longer there.
 */
import { FatalProcessorError, type ParkedEvent, type StateStore } from '../processing/types.ts';
import type { RecordedEvent } from '../eventstore/index.ts';
import type { ClickHouse, ClickHouseRow } from './client.ts';
import { compactionFloor, compactState, createCompactor, migrateCompactionTable, STATE_TABLE, type CompactionResult, type CompactionSchedule } from './compaction.ts';
import { sqlIdentifier, sqlInteger, sqlString, sqlStringList } from './escape.ts';

/** A table the processor writes: rows are buffered during `apply` and inserted at commit, in the order tables were first written. */
export interface ClickHouseTable {
  name: string;
  columns: readonly string[];
}

/**
 * What a ClickHouse processor writes through. `get` reads its state as of the
 * checkpoint (overlaid with what this batch put); `put` and `write` are
 * buffered and reach ClickHouse only at commit.
 */
export interface ClickHouseWriter {
  /** Position of the last event committed before this batch. */
  readonly checkpoint: number;
  /** The state values of `keys` as of the checkpoint plus this batch's puts; missing keys are absent from the map. */
  get(keys: Iterable<string>): Promise<Map<string, unknown>>;
  /** Sets (or, with undefined, deletes) a state value; JSON-serialisable. */
  put(key: string, value: unknown): void;
  /** Buffers `row` for `table`; a later row with the same `id` in this batch replaces it (the table's key collapses it anyway). */
  write(table: ClickHouseTable, id: string, row: ClickHouseRow): void;
}

export interface ClickHouseStateOptions {
  clickhouse: ClickHouse;
  database: string;
  /** The processor's name: its checkpoint, state and parked events are keyed by it. */
  processor: string;
  /** Creates the processor's own tables (after the store's); runs in `migrate()`. */
  migrate?: (clickhouse: ClickHouse, database: string) => Promise<void>;
  /** Test hook: runs after the batch's rows and state are inserted, before the checkpoint. */
  beforeCommit?: () => void | Promise<void>;
  /** State values kept in memory between batches (default 100 000); past it the cache is emptied. */
  cacheSize?: number;
  /** Keys per state read (default 500): each is a literal in the statement, and 18.16's max_query_size is 256 KiB. */
  readChunk?: number;
  /** When old state versions are compacted away (default every 1000 commits or 10 minutes); false: never (they are kept forever). */
  compaction?: CompactionSchedule | false;
  /** Each compaction's outcome (compacted, or skipped while a mutation still runs). */
  onCompaction?: (result: CompactionResult) => void;
  /** A compaction that failed (it never fails a commit; it is tried again when next due). */
  onCompactionError?: (error: unknown) => void;
}

export interface ClickHouseStateStore extends StateStore<ClickHouseWriter> {
  readonly database: string;
  /** Creates the database and the store's tables (IF NOT EXISTS), then the processor's. */
  migrate(): Promise<void>;
  /** Compacts the state to the checkpoint now (after a compaction already running); the mutation it starts finishes in the background. */
  compact(): Promise<CompactionResult>;
}

const CHECKPOINT_TABLE = 'processor_checkpoints';
const PARKED_TABLE = 'processor_parked';
const STATE_COLUMNS = ['processor', 'key', 'position', 'value', 'deleted'] as const;
const PARKED_COLUMNS = ['processor', 'position', 'stream_id', 'revision', 'type', 'error', 'parked_at'] as const;

/** The store's own tables, shared by every ClickHouse processor of the database. */
export async function migrateStateTables(clickhouse: ClickHouse, database: string): Promise<void> {
  const db = sqlIdentifier(database);
  await clickhouse.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
  await clickhouse.command(`CREATE TABLE IF NOT EXISTS ${db}.${CHECKPOINT_TABLE} (
    processor String,
    position UInt64,
    updated_at DateTime('UTC')
  ) ENGINE = ReplacingMergeTree(position) ORDER BY processor`);
  await clickhouse.command(`CREATE TABLE IF NOT EXISTS ${db}.${STATE_TABLE} (
    processor String,
    key String,
    position UInt64,
    value String,
    deleted UInt8
  ) ENGINE = ReplacingMergeTree ORDER BY (processor, key, position)`);
  await clickhouse.command(`CREATE TABLE IF NOT EXISTS ${db}.${PARKED_TABLE} (
    processor String,
    position UInt64,
    stream_id String,
    revision UInt64,
    type String,
    error String,
    parked_at DateTime('UTC')
  ) ENGINE = ReplacingMergeTree ORDER BY (processor, position)`);
  await migrateCompactionTable(clickhouse, database);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** `processor`'s checkpoint as ClickHouse holds it now (0 before its first commit); fails while the store's tables do not exist yet. */
export async function readCheckpoint(clickhouse: ClickHouse, database: string, processor: string): Promise<number> {
  const [row] = await clickhouse.query<{ position: string | number }>(
    `SELECT max(position) AS position FROM ${sqlIdentifier(database)}.${CHECKPOINT_TABLE} WHERE processor = ${sqlString(processor)}`,
  );
  return Number(row?.position ?? 0);
}

/** How many events `processor` has parked, as ClickHouse holds it now. */
export async function countParked(clickhouse: ClickHouse, database: string, processor: string): Promise<number> {
  const [row] = await clickhouse.query<{ n: string }>(`SELECT uniqExact(position) AS n FROM ${sqlIdentifier(database)}.${PARKED_TABLE} WHERE processor = ${sqlString(processor)}`);
  return Number(row?.n ?? 0);
}

export function openClickHouseStateStore({
  clickhouse,
  database,
  processor,
  migrate,
  beforeCommit,
  cacheSize = 100_000,
  readChunk = 500,
  compaction = {},
  onCompaction,
  onCompactionError,
}: ClickHouseStateOptions): ClickHouseStateStore {
  const db = sqlIdentifier(database);
  if (!processor) throw new TypeError('openClickHouseStateStore: processor is required');
  if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new TypeError('openClickHouseStateStore: cacheSize must be an integer ≥ 0');
  if (!Number.isInteger(readChunk) || readChunk < 1) throw new TypeError('openClickHouseStateStore: readChunk must be a positive integer');
  const name = sqlString(processor);
  /** The checkpoint, once read (and moved by each commit). */
  let position: number | null = null;
  /**
   * State values as of `position`, as JSON (null: known to be absent). Kept
   * as text so that what a processor gets is always its own copy: a batch
   * that fails after changing a value it read leaves the cache as it was.
   */
  const cache = new Map<string, string | null>();
  const compactor = createCompactor({
    ...(compaction === false ? { everyCommits: Number.MAX_SAFE_INTEGER, everyMs: Number.MAX_SAFE_INTEGER } : compaction),
    compact: (floor) => compactState(clickhouse, database, processor, floor),
    ...(onCompaction ? { onDone: onCompaction } : {}),
    ...(onCompactionError ? { onError: onCompactionError } : {}),
  });
  const scheduled = compaction !== false;

  async function readState(keys: readonly string[], asOf: number): Promise<Map<string, string>> {
    // Compaction removed the versions below its floor: the state as of an earlier checkpoint is no longer there.
    const floor = await compactionFloor(clickhouse, database, processor);
    if (floor > asOf) {
      throw new FatalProcessorError(
        `${processor}: its state in ClickHouse was compacted to position ${floor}, past this instance's checkpoint ${asOf}: another instance of the processor is ahead of this one (run one per database)`,
      );
    }
    const found = new Map<string, string>();
    for (let i = 0; i < keys.length; i += readChunk) {
      const rows = await clickhouse.query<{ key: string; value: string; deleted: number | string }>(
        `SELECT key, argMax(value, position) AS value, argMax(deleted, position) AS deleted
         FROM ${db}.${STATE_TABLE}
         WHERE processor = ${name} AND position <= ${sqlInteger(asOf)} AND key IN ${sqlStringList(keys.slice(i, i + readChunk))}
         GROUP BY key`,
      );
      for (const row of rows) if (Number(row.deleted) === 0) found.set(row.key, row.value);
    }
    return found;
  }

  async function writeCheckpoint(to: number): Promise<void> {
    await clickhouse.insert(database, CHECKPOINT_TABLE, ['processor', 'position', 'updated_at'], [{ processor, position: to, updated_at: nowSeconds() }]);
  }

  async function current(): Promise<number> {
    position ??= await readCheckpoint(clickhouse, database, processor);
    return position;
  }

  function remember(key: string, json: string | null): void {
    if (cache.size >= cacheSize && !cache.has(key)) cache.clear();
    if (cacheSize > 0) cache.set(key, json);
  }

  return {
    database,
    async migrate() {
      await migrateStateTables(clickhouse, database);
      await migrate?.(clickhouse, database);
    },
    checkpoint: current,
    async commit(to, work) {
      const from = await current();
      if (to <= from) throw new RangeError(`${processor}: checkpoint would move backwards to ${to} (it is at ${from})`);
      /** This batch's state changes, as JSON (null: deleted). */
      const puts = new Map<string, string | null>();
      const tables = new Map<string, { table: ClickHouseTable; rows: Map<string, ClickHouseRow> }>();
      const writer: ClickHouseWriter = {
        checkpoint: from,
        async get(wanted) {
          const json = new Map<string, string | null>();
          const missing: string[] = [];
          for (const key of new Set(wanted)) {
            const known = puts.has(key) ? puts.get(key) : cache.get(key);
            if (known !== undefined) json.set(key, known);
            else missing.push(key);
          }
          if (missing.length > 0) {
            const read = await readState(missing, from);
            for (const key of missing) {
              const value = read.get(key) ?? null;
              remember(key, value);
              json.set(key, puts.has(key) ? (puts.get(key) ?? null) : value);
            }
          }
          const out = new Map<string, unknown>();
          for (const [key, value] of json) if (value !== null) out.set(key, JSON.parse(value) as unknown);
          return out;
        },
        put(key, value) {
          puts.set(key, value === undefined ? null : JSON.stringify(value));
        },
        write(table, id, row) {
          let entry = tables.get(table.name);
          if (!entry) tables.set(table.name, (entry = { table, rows: new Map() }));
          entry.rows.set(id, row);
        },
      };
      await work(writer);
      for (const { table, rows } of tables.values()) await clickhouse.insert(database, table.name, table.columns, [...rows.values()]);
      if (puts.size > 0) {
        const rows = [...puts].map(([key, json]) => ({ processor, key, position: to, value: json ?? '', deleted: json === null ? 1 : 0 }));
        await clickhouse.insert(database, STATE_TABLE, STATE_COLUMNS, rows);
      }
      await beforeCommit?.();
      await writeCheckpoint(to);
      position = to;
      for (const [key, json] of puts) remember(key, json);
      if (scheduled) compactor.committed(to);
    },
    async compact() {
      return compactor.compactNow(await current());
    },
    async park(event: RecordedEvent, error: unknown) {
      const from = await current();
      if (event.position <= from) throw new RangeError(`${processor}: checkpoint would move backwards to ${event.position} (it is at ${from})`);
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await clickhouse.insert(database, PARKED_TABLE, PARKED_COLUMNS, [
        { processor, position: event.position, stream_id: event.streamId, revision: event.revision, type: event.type, error: message.slice(0, 10_000), parked_at: nowSeconds() },
      ]);
      await writeCheckpoint(event.position);
      position = event.position;
    },
    async parked(limit = 100): Promise<ParkedEvent[]> {
      const rows = await clickhouse.query<{ position: string; stream_id: string; revision: string; type: string; error: string; parked_at: number | string }>(
        `SELECT position, stream_id, revision, type, error, toUnixTimestamp(parked_at) AS parked_at
         FROM ${db}.${PARKED_TABLE} FINAL WHERE processor = ${name} ORDER BY position LIMIT ${sqlInteger(limit)}`,
      );
      return rows.map((r) => ({
        position: Number(r.position),
        streamId: r.stream_id,
        revision: Number(r.revision),
        type: r.type,
        error: r.error,
        parkedAt: new Date(Number(r.parked_at) * 1000).toISOString(),
      }));
    },
    parkedCount: () => countParked(clickhouse, database, processor),
    async close() {
      await compactor.close();
      cache.clear();
    },
  };
}
