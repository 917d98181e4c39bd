/**
 * Compaction of a processor's state in `processor_state` (see state.ts).
 *
 * Every commit inserts the state it changed as new versions at the batch's
 * last position, and a batch reads the state *as of the checkpoint*
 * (`argMax(value, position) … WHERE position <= checkpoint`). Without
 * compaction every version is kept forever. What crash-safety needs is less:
 *
 * - the state as of the checkpoint: for each key, its latest version at or
 *   below the checkpoint (reads as of a later checkpoint need nothing older:
 *   the checkpoint only moves forward);
 * - every version *above* the checkpoint: a commit in flight (its rows and
 *   state written, its checkpoint not yet) or a crashed attempt, whose
 *   versions become visible if the checkpoint passes them. A batch applied
 *   again after a crash reads as of the checkpoint and never sees them before.
 *
 * So compaction to a floor F (the checkpoint this store committed) is, in
 * this order, each step idempotent and each state in between correct for a
 * read as of any checkpoint ≥ F:
 *
 * 1. snapshot: the state as of F is inserted again at position F, one row per
 *    live key (`INSERT … SELECT` of `argMax(value, position) … WHERE position <= F
 *    GROUP BY key`, keys whose latest version is a deletion left out); a key whose latest
 *    version at or below F is at F already gets the same row again, which
 *    the table's key (processor, key, position) collapses;
 * 2. the floor is recorded in `processor_compactions`;
 * 3. `ALTER TABLE processor_state DELETE WHERE processor = … AND position < F`:
 *    a mutation, asynchronous (ClickHouse rewrites the parts in the
 *    background); until it is done, reads see old versions too, which the
 *    snapshot at F outranks. A key deleted at or below F loses its history
 *    and its tombstone (below F), so it reads as absent, as before.
 *
 * Versions above F are never touched. Nothing here uses a subquery inside a
 * mutation (which replicated tables refuse on current releases), `TTL`,
 * `DELETE FROM` or query settings: 18.16 and current releases run it alike.
 *
 * A mutation rewrites parts: it is run rarely (every N commits or M minutes,
 * whichever comes first), never while an earlier mutation of the table is
 * still running, one compaction at a time, and never blocks a commit.
 */
import type { ClickHouse } from './client.ts';
import { sqlIdentifier, sqlInteger, sqlString } from './escape.ts';

export const STATE_TABLE = 'processor_state';
export const COMPACTIONS_TABLE = 'processor_compactions';

export async function migrateCompactionTable(clickhouse: ClickHouse, database: string): Promise<void> {
  await clickhouse.command(`CREATE TABLE IF NOT EXISTS ${sqlIdentifier(database)}.${COMPACTIONS_TABLE} (
    processor String,
    floor UInt64,
    compacted_at DateTime('UTC')
  ) ENGINE = ReplacingMergeTree(floor) ORDER BY processor`);
}

/** Mutations of `processor_state` in `database` that ClickHouse has not finished. */
export async function pendingStateMutations(clickhouse: ClickHouse, database: string): Promise<number> {
  const [row] = await clickhouse.query<{ n: string }>(
    `SELECT count() AS n FROM system.mutations WHERE database = ${sqlString(database)} AND table = ${sqlString(STATE_TABLE)} AND is_done = 0`,
  );
  return Number(row?.n ?? 0);
}

/** The highest floor `processor`'s state was compacted to (0: never): state as of an earlier checkpoint is gone. */
export async function compactionFloor(clickhouse: ClickHouse, database: string, processor: string): Promise<number> {
  const [row] = await clickhouse.query<{ floor: string }>(`SELECT max(floor) AS floor FROM ${sqlIdentifier(database)}.${COMPACTIONS_TABLE} WHERE processor = ${sqlString(processor)}`);
  return Number(row?.floor ?? 0);
}

export type CompactionResult = { floor: number; compacted: true } | { floor: number; compacted: false; reason: 'mutation-running' | 'nothing-to-do' };

/**
 * Compacts `processor`'s state to `floor`, which must be a checkpoint this
 * processor has committed (so no read as of an earlier one can come). Skips
 * (compacted: false) while a mutation of the table is still running.
 */
export async function compactState(clickhouse: ClickHouse, database: string, processor: string, floor: number): Promise<CompactionResult> {
  const db = sqlIdentifier(database);
  const name = sqlString(processor);
  const at = sqlInteger(floor);
  if (floor <= 0) return { floor, compacted: false, reason: 'nothing-to-do' };
  if ((await pendingStateMutations(clickhouse, database)) > 0) return { floor, compacted: false, reason: 'mutation-running' };
  // INSERT … SELECT maps columns by place. No alias may reuse a column's name: ClickHouse substitutes aliases
  // everywhere in the query (`toUInt64(F) AS position` would turn argMax(value, position) into argMax(value, F)).
  await clickhouse.command(`INSERT INTO ${db}.${STATE_TABLE} (processor, key, position, value, deleted)
    SELECT ${name}, state_key, toUInt64(${at}), latest_value, toUInt8(0)
    FROM (
      SELECT key AS state_key, argMax(value, position) AS latest_value, argMax(deleted, position) AS latest_deleted
      FROM ${db}.${STATE_TABLE}
      WHERE processor = ${name} AND position <= ${at}
      GROUP BY key
    )
    WHERE latest_deleted = 0`);
  await clickhouse.insert(database, COMPACTIONS_TABLE, ['processor', 'floor', 'compacted_at'], [{ processor, floor, compacted_at: Math.floor(Date.now() / 1000) }]);
  await clickhouse.command(`ALTER TABLE ${db}.${STATE_TABLE} DELETE WHERE processor = ${name} AND position < ${at}`);
  return { floor, compacted: true };
}

export interface CompactionSchedule {
  /** Compact after this many commits since the last compaction (default 1000). */
  everyCommits?: number;
  /** …or once this long has passed since the last one, if anything was committed (default 10 minutes). */
  everyMs?: number;
}

export interface Compactor {
  /** Tells the compactor a commit reached `checkpoint`; starts a compaction in the background when one is due. */
  committed(checkpoint: number): void;
  /** Compacts to `checkpoint` now (after any running compaction). */
  compactNow(checkpoint: number): Promise<CompactionResult>;
  /** Waits for a running compaction; no new one starts after. */
  close(): Promise<void>;
}

/** Runs `compact` in the background when due, one at a time; its failures go to `onError` and it is tried again at the next due time. */
export function createCompactor({
  compact,
  everyCommits = 1000,
  everyMs = 600_000,
  onDone,
  onError,
  now = () => Date.now(),
}: CompactionSchedule & {
  compact: (floor: number) => Promise<CompactionResult>;
  onDone?: (result: CompactionResult) => void;
  onError?: (error: unknown) => void;
  now?: () => number;
}): Compactor {
  if (!Number.isInteger(everyCommits) || everyCommits < 1) throw new TypeError('compaction: everyCommits must be a positive integer');
  if (!(everyMs > 0)) throw new TypeError('compaction: everyMs must be > 0');
  let commits = 0;
  let last = now();
  let running: Promise<CompactionResult> | null = null;
  let closed = false;

  function run(floor: number): Promise<CompactionResult> {
    const previous = running ?? Promise.resolve(null);
    const next = previous
      .catch(() => null)
      .then(() => compact(floor))
      .then((result) => {
        onDone?.(result);
        return result;
      });
    running = next;
    void next.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      if (running === next) running = null;
    });
    return next;
  }

  return {
    committed(checkpoint) {
      commits++;
      if (closed || running) return;
      if (commits < everyCommits && now() - last < everyMs) return;
      // Counted from this start, whatever comes of it: a skipped or failed compaction is tried again when the next one is due.
      commits = 0;
      last = now();
      run(checkpoint).catch((error: unknown) => onError?.(error));
    },
    compactNow: (checkpoint) => run(checkpoint),
    async close() {
      closed = true;
      await running?.catch(() => undefined);
    },
  };
}
