/**
 * The port's catch-up subscription on top of ESDB's `subscribeToAll`, which
 * already reads history and then hands over to live events on the server. Its
 * client side is a readable stream (object mode): events land in a queue of
 * at most `batchSize`; when the queue is full the stream is paused, so the
 * client stops reading, gRPC flow control stops the server, and memory stays
 * bounded (the queue plus the client stream's own `highWaterMark`, both
 * `batchSize`). The stream resumes once the consumer has taken half.
 *
 * If the connection drops, the subscription is opened again after the last
 * event it queued (exponential backoff with jitter); events at or before that
 * position are dropped, so nothing is handed out twice.
 */
import type { Readable } from 'node:stream';
import type { AllStreamResolvedEvent } from '@kurrent/kurrentdb-client';
import { NovaCronError } from '../../errors/index.ts';
import type { RecordedEvent, Subscription } from '../port.ts';
import { isTransientEsdbError, mapEsdbError } from './mapping.ts';

/** The part of the client's subscription the adapter uses (a Readable plus `unsubscribe`). */
export type LiveSource = Pick<Readable, 'on' | 'pause' | 'resume' | 'isPaused' | 'removeAllListeners'> & {
  unsubscribe(): Promise<void>;
};

export interface EsdbSubscriptionOptions {
  /** Opens the client's subscription to events after `afterPosition` (0: from the start), with this `highWaterMark`. */
  open(afterPosition: number, highWaterMark: number): LiveSource;
  /** The event as the port shows it, or null when the port does not show it (system, snapshot, filtered out). */
  convert(resolved: AllStreamResolvedEvent): RecordedEvent | null;
  afterPosition?: number;
  batchSize?: number;
  /** Reconnections tried in a row before the iteration fails with NC_STORE_UNAVAILABLE. */
  reconnectAttempts?: number;
  reconnectBaseMs?: number;
  onStop?: () => void;
}

export function createEsdbSubscription({
  open,
  convert,
  afterPosition = 0,
  batchSize = 256,
  reconnectAttempts = 8,
  reconnectBaseMs = 100,
  onStop,
}: EsdbSubscriptionOptions): Subscription {
  if (!Number.isSafeInteger(afterPosition) || afterPosition < 0) throw new RangeError('afterPosition must be an integer >= 0');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');

  let position = afterPosition;
  /** Position of the last event queued: where a reconnection resumes. */
  let queuedUpTo = afterPosition;
  let queue: RecordedEvent[] = [];
  let source: LiveSource | null = null;
  let generation = 0;
  let failures = 0;
  let failure: Error | null = null;
  let stopped = false;
  let iterating = false;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  const resumeBelow = Math.max(1, Math.floor(batchSize / 2));

  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  function closeSource(): void {
    const current = source;
    source = null;
    generation += 1;
    if (current) {
      current.removeAllListeners('data');
      current.removeAllListeners('end');
      // Errors after cancelling (CANCELLED) must not crash the process: keep a listener that ignores them.
      current.removeAllListeners('error');
      current.on('error', () => {});
      void current.unsubscribe().catch(() => {});
    }
  }

  function connect(): void {
    if (stopped) return;
    const mine = ++generation;
    let opened: LiveSource;
    try {
      opened = open(queuedUpTo, batchSize);
    } catch (error) {
      lost(error, mine);
      return;
    }
    source = opened;
    opened.on('data', (resolved: AllStreamResolvedEvent) => {
      if (mine !== generation || stopped) return;
      let event: RecordedEvent | null;
      try {
        event = convert(resolved);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
        closeSource();
        notify();
        return;
      }
      failures = 0;
      if (event === null || event.position <= queuedUpTo) return;
      queuedUpTo = event.position;
      queue.push(event);
      if (queue.length >= batchSize) opened.pause();
      notify();
    });
    opened.on('error', (error: unknown) => lost(error, mine));
    opened.on('end', () => lost(new NovaCronError('NC_STORE_UNAVAILABLE', 'the event store ended the subscription', { retriable: true }), mine));
  }

  function lost(error: unknown, mine: number): void {
    if (mine !== generation || stopped) return;
    closeSource();
    const transient = isTransientEsdbError(error) || (error instanceof NovaCronError && error.retriable);
    if (transient && failures < reconnectAttempts) {
      const delay = reconnectBaseMs * 2 ** failures * (0.5 + Math.random() / 2);
      failures += 1;
      reconnectTimer = setTimeout(() => {
        reconnectTimer = null;
        connect();
      }, delay);
      reconnectTimer.unref?.();
      return;
    }
    failure = mapEsdbError(error, '$all', 'any', 'subscribe');
    notify();
  }

  async function* events(): AsyncGenerator<RecordedEvent> {
    connect();
    try {
      while (!stopped) {
        const next = queue.shift();
        if (next !== undefined) {
          if (queue.length < resumeBelow && source?.isPaused()) source.resume();
          position = next.position;
          yield next;
          continue;
        }
        if (failure) throw failure;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      closeSource();
    }
  }

  return {
    get position() {
      return position;
    },
    get buffered() {
      return queue.length;
    },
    takeBuffered(max: number): RecordedEvent[] {
      const taken = queue.splice(0, Math.max(0, Math.floor(max)));
      const last = taken[taken.length - 1];
      if (last !== undefined) position = last.position;
      if (queue.length < resumeBelow && source?.isPaused()) source.resume();
      return taken;
    },
    [Symbol.asyncIterator]() {
      if (iterating) throw new Error('a subscription can be iterated only once');
      iterating = true;
      return events();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      queue = [];
      closeSource();
      notify();
      onStop?.();
    },
  };
}
