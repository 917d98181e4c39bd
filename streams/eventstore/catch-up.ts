import type { EventFilter, RecordedEvent, Subscription } from './port.ts';

export interface CatchUpSource {
  /** Reads up to `maxCount` events with position > `afterPosition` that match `filter`, in order. */
  readPage(afterPosition: number, maxCount: number, filter: EventFilter | undefined): RecordedEvent[];
  /** Calls `wake` once, after the next commit (or a poll interval); returns a canceller. */
  onNextCommit(wake: () => void): () => void;
}

/**
 * A pull-based catch-up subscription. It reads the log page by page from the
 * last delivered position, and when it reaches the head waits for the next
 * commit, then reads again from that same position. History and live events
 * come from the same query, so the hand-over can neither skip nor repeat an
 * event; and nothing is read before the consumer asks, so a slow consumer holds
 * at most one page in memory.
 */
export function createCatchUpSubscription(
  source: CatchUpSource,
  { afterPosition = 0, filter, batchSize = 256 }: { afterPosition?: number; filter?: EventFilter; batchSize?: number },
): Subscription & { readonly buffered: number; takeBuffered(max: number): RecordedEvent[] } {
  if (!Number.isInteger(afterPosition) || afterPosition < 0) throw new RangeError('afterPosition must be an integer >= 0');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');

  let position = afterPosition;
  let page: RecordedEvent[] = [];
  let index = 0;
  let stopped = false;
  let iterating = false;
  let wakeWaiter: (() => void) | null = null;

  const waitForCommit = (): Promise<void> =>
    new Promise((resolve) => {
      const cancel = source.onNextCommit(() => {
        wakeWaiter = null;
        resolve();
      });
      wakeWaiter = () => {
        cancel();
        wakeWaiter = null;
        resolve();
      };
    });

  async function* events(): AsyncGenerator<RecordedEvent> {
    while (!stopped) {
      if (index >= page.length) {
        page = source.readPage(position, batchSize, filter);
        index = 0;
        if (page.length === 0) {
          await waitForCommit();
          continue;
        }
      }
      const event = page[index++] as RecordedEvent;
      position = event.position;
      yield event;
    }
  }

  return {
    get position() {
      return position;
    },
    get buffered() {
      return page.length - index;
    },
    takeBuffered(max: number): RecordedEvent[] {
      if (stopped || max < 1 || index >= page.length) return [];
      const taken = page.slice(index, Math.min(page.length, index + max));
      index += taken.length;
      position = (taken[taken.length - 1] as RecordedEvent).position;
      return taken;
    },
    [Symbol.asyncIterator]() {
      if (iterating) throw new Error('a subscription can be iterated only once');
      iterating = true;
      return events();
    },
    async stop() {
      stopped = true;
      page = [];
      index = 0;
      wakeWaiter?.();
    },
  };
}
