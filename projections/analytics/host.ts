/**
 * Runs the analytics projection: one processor reading the event store's
 * global log (raw: personal fields stay encrypted) into ClickHouse. It is a
 * ProjectionHost, so the platform combines it with the embedded one and
 * `novacron status`, GET /v1/admin/processors and session waits see it.
 *
 * ClickHouse being down never stops NovaCron: `start()` returns at once and
 * the host creates its tables, reads its checkpoint and applies batches in
 * the background, retrying every failure with full-jitter exponential backoff
 * for as long as it takes (the runner's retries are unbounded here); the
 * status stays `running` and its `error` names the last failure until a
 * commit succeeds. An event the projection cannot apply is parked, as in every
 * processor; a failure of ClickHouse never parks anything.
 *
 * Read only (`run: false`, `novacron start --role api`): the processor runs
 * in another process (`--role processor --processors analytics`, or one
 * `npm start`), and this host only serves its queries. `start()` starts
 * nothing and nothing is ever written (no tables created, no checkpoint, no
 * compaction), so any number of API instances can read one database; its
 * status is `idle`, with the checkpoint and parked count read from ClickHouse,
 * and `waitFor` polls the checkpoint there. Exactly one process per ClickHouse
 * database may run the processor: a second one stops with FatalProcessorError
 * once the first has compacted past it (streams/clickhouse/state.ts).
 *
 * Not fed from Kafka yet: the Kafka processors' state store keeps per-partition
 * offsets in SQLite, and this projection's state (stream time, the nodes'
 * ledgers) assumes the log's one global order.
 */
import type { Catalog } from '../../streams/catalog/index.ts';
import type { ClickHouse } from '../../streams/clickhouse/client.ts';
import type { CompactionResult, CompactionSchedule } from '../../streams/clickhouse/compaction.ts';
import { countParked, openClickHouseStateStore, readCheckpoint } from '../../streams/clickhouse/state.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { EventStore, RecordedEvent, Subscription } from '../../streams/eventstore/index.ts';
import type { ProjectionHost, ProjectionStatus } from '../../streams/processing/projection-host.ts';
import { isRetriable } from '../../streams/processing/retriable.ts';
import { createProcessorRunner } from '../../streams/processing/runner.ts';
import { withTimeout } from '../../streams/processing/wait-until.ts';
import { ANALYTICS, createAnalyticsProjection } from './projection.ts';
import { createAnalyticsQueries } from './queries.ts';

export interface AnalyticsHostOptions {
  /** The event store whose global log the projection reads. */
  source: EventStore;
  /** The ClickHouse client; the host owns it and closes it on stop(). */
  clickhouse: ClickHouse;
  /** Database of the tables (created if missing, when the host runs the processor). */
  database: string;
  /**
   * Whether this host runs the processor (default true). false: read only, for
   * an API whose analytics processor runs elsewhere (`novacron start --role api`):
   * it serves the queries, writes nothing and shows the checkpoint ClickHouse holds.
   */
  run?: boolean;
  /** Read only: how often `waitFor` reads the checkpoint from ClickHouse (default 50 ms). */
  pollIntervalMs?: number;
  catalog?: Catalog;
  /** Most events per commit (default 1000). */
  batchSize?: number;
  /** Least time between two batches' reads of the log (default 200 ms): a busy log is committed in few, large inserts. */
  minBatchIntervalMs?: number;
  /** Full-jitter exponential backoff of every retry, in ms (default 50 → 5000). */
  backoff?: { baseMs: number; capMs: number };
  /** How long status() waits for ClickHouse to count the parked events before showing the last count (default 1000 ms). */
  statusTimeoutMs?: number;
  /** Test hook: runs after a batch's rows, before its checkpoint (see openClickHouseStateStore). */
  beforeCommit?: () => void | Promise<void>;
  /** When the processor's old state versions are compacted away (default every 1000 commits or 10 minutes; see streams/clickhouse/compaction.ts). */
  compaction?: CompactionSchedule | false;
  onCompaction?: (result: CompactionResult) => void;
  onCommit?: (name: string, checkpoint: number, batch: readonly RecordedEvent[]) => void;
  onError?: (name: string, error: unknown) => void;
}

/**
 * A subscription that reads the store at most once per `minIntervalMs`: when
 * its buffer is empty (a batch is about to start), it waits what is left of
 * the interval before reading, so a busy live log arrives in batches of what
 * accumulated meanwhile rather than one insert per table per event (ClickHouse
 * wants few, large inserts). A lone event after a quiet spell is not delayed.
 */
export function throttled(subscription: Subscription, minIntervalMs: number): Subscription {
  if (minIntervalMs <= 0) return subscription;
  let lastRead = Number.NEGATIVE_INFINITY;
  let stopped = false;
  let wake: (() => void) | null = null;
  const inner = subscription[Symbol.asyncIterator]();
  return {
    get position() {
      return subscription.position;
    },
    get buffered() {
      return subscription.buffered;
    },
    ...(subscription.takeBuffered ? { takeBuffered: (max: number) => subscription.takeBuffered?.(max) ?? [] } : {}),
    async stop() {
      stopped = true;
      wake?.();
      await subscription.stop();
    },
    [Symbol.asyncIterator]() {
      return {
        async next() {
          if (subscription.buffered === 0) {
            const wait = lastRead + minIntervalMs - performance.now();
            if (wait > 0 && !stopped) {
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, wait);
                wake = () => {
                  clearTimeout(timer);
                  resolve();
                };
              });
              wake = null;
            }
            lastRead = performance.now();
          }
          return inner.next();
        },
      };
    },
  };
}

/** The event store with its catch-up subscriptions raw (data as stored: personal fields encrypted, not upcast), and read at most once per `minBatchIntervalMs`. */
export function rawLog(store: EventStore, minBatchIntervalMs = 0): EventStore {
  return {
    append: (...args) => store.append(...args),
    readStream: (...args) => store.readStream(...args),
    readAll: (options) => store.readAll({ ...options, raw: true }),
    subscribeToAll: (options) => throttled(store.subscribeToAll({ ...options, raw: true }), minBatchIntervalMs),
    streamState: (...args) => store.streamState(...args),
    getStreamMetadata: (...args) => store.getStreamMetadata(...args),
    setStreamMetadata: (...args) => store.setStreamMetadata(...args),
    deleteStream: (...args) => store.deleteStream(...args),
    tombstoneStream: (...args) => store.tombstoneStream(...args),
    readSnapshot: (...args) => store.readSnapshot(...args),
    writeSnapshot: (...args) => store.writeSnapshot(...args),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export function createAnalyticsHost(options: AnalyticsHostOptions): ProjectionHost {
  return options.run === false ? analyticsReader(options) : analyticsProcessor(options);
}

/** The refusal of `novacron replay analytics`, wherever the processor runs. */
function noReplay(database: string): NovaCronError {
  return new NovaCronError(
    'NC_VALIDATION',
    `${ANALYTICS} is not replayed into a new generation: rebuild it by dropping its ClickHouse database (${database}); the next start recreates it and refills it from the log`,
    { details: { projection: ANALYTICS } },
  );
}

/**
 * The read-only host: the queries on the tables another process writes. It
 * only ever SELECTs: its checkpoint is the one ClickHouse holds, read by
 * status() (bounded by statusTimeoutMs, else the last one read) and polled by
 * waitFor.
 */
function analyticsReader({ source, clickhouse, database, catalog, statusTimeoutMs = 1_000, pollIntervalMs = 50 }: AnalyticsHostOptions): ProjectionHost {
  if (!(pollIntervalMs > 0)) throw new TypeError('createAnalyticsHost: pollIntervalMs must be > 0');
  const projection = createAnalyticsProjection(catalog ? { catalog } : {});
  const queries = createAnalyticsQueries({ clickhouse, database });
  const stopping = new AbortController();
  let checkpoint = 0;
  let parked = 0;
  let lastError: string | null = null;
  const entry = (name: string) => {
    if (name !== projection.name) throw new RangeError(`unknown projection ${JSON.stringify(name)} (known: ${projection.name})`);
  };
  /** The checkpoint ClickHouse holds (remembered for checkpoint()); a failure shows in the status. */
  const read = (timeoutMs: number) =>
    withTimeout(readCheckpoint(clickhouse, database, projection.name), timeoutMs).then(
      (position) => {
        lastError = null;
        return (checkpoint = position);
      },
      (error: unknown) => {
        lastError = describe(error);
        return checkpoint;
      },
    );
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      }
      stopping.signal.addEventListener('abort', done, { once: true });
    });
  const host: ProjectionHost = {
    names: [projection.name],
    // Nothing runs here: the processor is another process's.
    async start() {},
    async stop() {
      stopping.abort();
      await clickhouse.close();
    },
    queries<Queries>(name: string): Queries {
      entry(name);
      return queries as Queries;
    },
    ordering: () => 'global',
    async waitFor(name, position, timeoutMs) {
      entry(name);
      if (position <= checkpoint) return true;
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const left = deadline - performance.now();
        if ((await read(Math.max(1, Math.min(statusTimeoutMs, left)))) >= position) return true;
        if (stopping.signal.aborted || performance.now() + pollIntervalMs > deadline) return false;
        await sleep(pollIntervalMs);
      }
    },
    async waitForStream(name, streamId, revision, timeoutMs) {
      entry(name);
      const [event] = await source.readStream(streamId, { fromRevision: revision, maxCount: 1 });
      return event !== undefined && event.revision === revision && host.waitFor(name, event.position, timeoutMs);
    },
    checkpoint(name) {
      entry(name);
      return checkpoint;
    },
    async status(): Promise<ProjectionStatus[]> {
      const [head, at] = await Promise.all([
        source.headPosition(),
        read(statusTimeoutMs),
        withTimeout(countParked(clickhouse, database, projection.name), statusTimeoutMs).then(
          (n) => (parked = n),
          () => parked,
        ),
      ]);
      return [{ name: projection.name, state: 'idle', checkpoint: at, head, lag: Math.max(0, head - at), parked, processed: 0, error: lastError, failures: lastError === null ? 0 : 1, generation: 1, version: projection.version }];
    },
    async replay(name) {
      entry(name);
      throw noReplay(database);
    },
  };
  return host;
}

function analyticsProcessor({
  source,
  clickhouse,
  database,
  catalog,
  batchSize = 1000,
  minBatchIntervalMs = 200,
  backoff = { baseMs: 50, capMs: 5_000 },
  statusTimeoutMs = 1_000,
  beforeCommit,
  compaction,
  onCompaction,
  onCommit,
  onError,
}: AnalyticsHostOptions): ProjectionHost {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('createAnalyticsHost: batchSize must be a positive integer');
  if (!(minBatchIntervalMs >= 0)) throw new TypeError('createAnalyticsHost: minBatchIntervalMs must be ≥ 0');
  if (!(backoff.baseMs > 0 && backoff.capMs >= backoff.baseMs)) throw new TypeError('createAnalyticsHost: backoff needs 0 < baseMs ≤ capMs');
  const projection = createAnalyticsProjection(catalog ? { catalog } : {});
  let lastError: string | null = null;
  let parkedSeen = 0;
  const failed = (error: unknown) => {
    lastError = describe(error);
    onError?.(projection.name, error);
  };
  const state = openClickHouseStateStore({
    clickhouse,
    database,
    processor: projection.name,
    migrate: projection.migrate,
    ...(beforeCommit ? { beforeCommit } : {}),
    ...(compaction !== undefined ? { compaction } : {}),
    ...(onCompaction ? { onCompaction } : {}),
    // A failed compaction is retried when next due; it shows in onError (and the status until the next commit) but never stops the processor.
    onCompactionError: failed,
  });
  const runner = createProcessorRunner({
    processor: projection,
    source: rawLog(source, minBatchIntervalMs),
    // The runner's status() counts parked events: from ClickHouse when it answers in time, else the last count.
    state: {
      ...state,
      parkedCount: () =>
        withTimeout(state.parkedCount(), statusTimeoutMs).then(
          (n) => (parkedSeen = n),
          () => parkedSeen,
        ),
    },
    batchSize,
    maxRetries: Number.POSITIVE_INFINITY,
    backoff,
    onCommit: (checkpoint, batch) => {
      lastError = null;
      onCommit?.(projection.name, checkpoint, batch);
    },
    onError: failed,
  });
  const queries = createAnalyticsQueries({ clickhouse, database });

  let phase: 'idle' | 'preparing' | 'running' | 'stopped' | 'failed' = 'idle';
  let background: Promise<void> | null = null;
  const abort = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        resolve();
      }
      abort.signal.addEventListener('abort', done, { once: true });
    });

  /** Runs `work` until it succeeds or the host stops; retriable failures wait a backoff, others end the host ('failed'). */
  async function untilDone<T>(work: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        return await work();
      } catch (error) {
        failed(error);
        if (!isRetriable(error)) throw error;
        await sleep(Math.floor(Math.random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(attempt, 30))));
      }
    }
    return undefined;
  }

  const entry = (name: string) => {
    if (name !== projection.name) throw new RangeError(`unknown projection ${JSON.stringify(name)} (known: ${projection.name})`);
  };

  return {
    names: [projection.name],
    async start() {
      if (background) return;
      phase = 'preparing';
      background = (async () => {
        await untilDone(() => state.migrate());
        await untilDone(() => state.checkpoint());
        if (abort.signal.aborted) return;
        await runner.start();
        phase = 'running';
      })().catch((error: unknown) => {
        phase = 'failed';
        lastError = describe(error);
      });
    },
    async stop() {
      abort.abort();
      await background;
      await runner.stop();
      if (phase !== 'failed') phase = 'stopped';
      await state.close();
      await clickhouse.close();
    },
    queries<Queries>(name: string): Queries {
      entry(name);
      return queries as Queries;
    },
    ordering: () => 'global',
    waitFor(name, position, timeoutMs) {
      entry(name);
      return runner.waitFor(position, timeoutMs);
    },
    async waitForStream(name, streamId, revision, timeoutMs) {
      entry(name);
      const [event] = await source.readStream(streamId, { fromRevision: revision, maxCount: 1 });
      return event !== undefined && event.revision === revision && runner.waitFor(event.position, timeoutMs);
    },
    checkpoint(name) {
      entry(name);
      return runner.checkpoint;
    },
    async status(): Promise<ProjectionStatus[]> {
      const s = await runner.status();
      let checkpoint = s.checkpoint;
      if (phase === 'idle') {
        // Not running in this process (novacron status): what ClickHouse holds, if it answers.
        checkpoint = await withTimeout(state.checkpoint(), statusTimeoutMs).catch((error: unknown) => {
          lastError = describe(error);
          return 0;
        });
      }
      const shown = phase === 'preparing' ? 'running' : phase === 'idle' ? 'idle' : s.state;
      return [{ ...s, state: shown, checkpoint, lag: Math.max(0, s.head - checkpoint), error: s.error ?? lastError, generation: 1, version: projection.version }];
    },
    async replay(name) {
      entry(name);
      throw noReplay(database);
    },
  };
}
