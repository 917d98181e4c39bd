import type { EventStore, RecordedEvent, Subscription } from '../eventstore/index.ts';
import { isRetriable, withBackoff } from './retriable.ts';
import { FatalProcessorError, type Processor, type StateStore } from './types.ts';

export interface ProcessorStatus {
  name: string;
  state: 'idle' | 'running' | 'stopped' | 'failed';
  /** Position of the last event applied. */
  checkpoint: number;
  /** Position of the last event in the log. */
  head: number;
  /** head − checkpoint: events not yet applied. */
  lag: number;
  parked: number;
  /** Events applied (or skipped) since start. */
  processed: number;
  /** The last attempt's failure (a batch that could not be committed, a lost connection); null once an attempt succeeds again. */
  error: string | null;
  /** Attempts that failed in a row since the last success (0 while healthy): a processor failing batch after batch is unhealthy. */
  failures: number;
}

/** Failed attempts in a row after which a processor counts as unhealthy (/healthz answers 503) although it still retries. */
export const UNHEALTHY_AFTER_FAILURES = 3;

/** Whether a processor's status makes its process unhealthy: it gave up, or it fails attempt after attempt. */
export const isUnhealthy = (s: Pick<ProcessorStatus, 'state' | 'failures'>): boolean => s.state === 'failed' || s.failures >= UNHEALTHY_AFTER_FAILURES;

export interface RunnerOptions<Writer> {
  processor: Processor<Writer>;
  source: EventStore;
  state: StateStore<Writer>;
  /** Most events applied in one commit. */
  batchSize?: number;
  /** Retries of a retriable failure before the runner gives up (state 'failed'). */
  maxRetries?: number;
  /** Base and cap of the full-jitter exponential backoff, in ms. */
  backoff?: { baseMs: number; capMs: number };
  /** Called after each commit with the new checkpoint (metrics, cache invalidation). */
  onCommit?: (checkpoint: number, batch: readonly RecordedEvent[]) => void;
  onError?: (error: unknown) => void;
}

/**
 * Runs one processor: source (the event store's catch-up subscription from the
 * checkpoint) → batch (whatever the subscription has read, up to batchSize) →
 * apply → commit (writes and checkpoint together). A retriable failure is
 * retried with backoff; an event that cannot be applied is parked with its
 * error and the processor goes on.
 */
export function createProcessorRunner<Writer>({
  processor,
  source,
  state,
  batchSize = 500,
  maxRetries = 10,
  backoff = { baseMs: 20, capMs: 5_000 },
  onCommit,
  onError,
}: RunnerOptions<Writer>) {
  if (!processor?.name) throw new TypeError('createProcessorRunner: processor.name is required');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('createProcessorRunner: batchSize must be a positive integer');
  const handles = new Set(processor.handles);
  let status: ProcessorStatus['state'] = 'idle';
  let checkpoint = 0;
  let processed = 0;
  let lastError: string | null = null;
  let failures = 0;
  let subscription: Subscription | null = null;
  let loop: Promise<void> | null = null;
  let stopping = false;
  let signalReady: () => void = () => undefined;
  let waiters: Array<{ position: number; resolve: (ok: boolean) => void; timer: NodeJS.Timeout }> = [];

  function failing(error: unknown): void {
    lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    failures++;
    onError?.(error);
  }

  function advanced(position: number, batch: readonly RecordedEvent[]): void {
    lastError = null;
    failures = 0;
    checkpoint = position;
    processed += batch.length;
    onCommit?.(position, batch);
    if (waiters.length > 0) {
      const still = [];
      for (const waiter of waiters) {
        if (waiter.position <= checkpoint) {
          clearTimeout(waiter.timer);
          waiter.resolve(true);
        } else still.push(waiter);
      }
      waiters = still;
    }
  }

  const withRetries = (work: () => Promise<void>): Promise<void> => withBackoff(work, { maxRetries, backoff, keepTrying: () => !stopping, onRetry: failing });

  /**
   * Applies `batch` in one commit. When some event in it cannot be applied,
   * applies its halves the same way, down to the culprit alone, which is
   * parked: the same outcome as applying the events one at a time, in about
   * 2·log2(n) commits rather than n (batches are large while catching up).
   */
  async function applyBatch(batch: readonly RecordedEvent[]): Promise<void> {
    const last = batch[batch.length - 1] as RecordedEvent;
    const relevant = batch.filter((event) => handles.has(event.type));
    try {
      await withRetries(async () => {
        if (processor.prepare && relevant.length > 0) await processor.prepare(relevant);
        await state.commit(last.position, (writer) => processor.apply(relevant, writer));
      });
    } catch (error) {
      if (error instanceof FatalProcessorError || isRetriable(error)) throw error;
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await applyBatch(batch.slice(0, half));
        await applyBatch(batch.slice(half));
        return;
      }
      onError?.(error);
      await withRetries(() => state.park(last, error));
    }
    advanced(last.position, batch);
  }

  async function run(): Promise<void> {
    checkpoint = await state.checkpoint();
    subscription = source.subscribeToAll({ afterPosition: checkpoint, batchSize });
    const events = subscription[Symbol.asyncIterator]();
    status = 'running';
    signalReady();
    while (!stopping) {
      const first = await events.next();
      if (first.done) break;
      const batch = [first.value];
      if (subscription?.takeBuffered) {
        // What the subscription has already read, at once rather than one await per event.
        for (const event of subscription.takeBuffered(batchSize - 1)) batch.push(event);
      }
      while (batch.length < batchSize && (subscription?.buffered ?? 0) > 0) {
        const next = await events.next();
        if (next.done) break;
        batch.push(next.value);
      }
      await applyBatch(batch);
    }
  }

  return {
    name: processor.name,
    /** Starts consuming; resolves once the checkpoint is read. */
    async start(): Promise<void> {
      if (loop) return;
      stopping = false;
      lastError = null;
      failures = 0;
      const ready = new Promise<void>((resolve) => (signalReady = resolve));
      loop = run().then(
        () => {
          status = 'stopped';
        },
        (error: unknown) => {
          status = 'failed';
          failing(error);
        },
      );
      await Promise.race([ready, loop]);
    },
    /** Stops after the batch in flight is committed. */
    async stop(): Promise<void> {
      stopping = true;
      await subscription?.stop();
      await loop;
      loop = null;
      if (status !== 'failed') status = 'stopped';
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(false);
      }
      waiters = [];
    },
    /** Resolves true once the processor has applied `position`, false after `timeoutMs`. */
    waitFor(position: number, timeoutMs: number): Promise<boolean> {
      if (position <= checkpoint) return Promise.resolve(true);
      if (timeoutMs <= 0 || status === 'failed' || status === 'stopped') return Promise.resolve(false);
      return new Promise((resolve) => {
        const waiter = {
          position,
          resolve,
          timer: setTimeout(() => {
            waiters = waiters.filter((w) => w !== waiter);
            resolve(false);
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    get checkpoint() {
      return checkpoint;
    },
    async status(): Promise<ProcessorStatus> {
      const head = await source.headPosition();
      return {
        name: processor.name,
        state: status,
        checkpoint,
        head,
        lag: Math.max(0, head - checkpoint),
        parked: await state.parkedCount(),
        processed,
        error: lastError,
        failures,
      };
    },
  };
}

export type ProcessorRunner = ReturnType<typeof createProcessorRunner>;
