/**
 * Where the relay starts again, worked out from what Kafka holds.
 *
 * How the relay publishes (relay.ts), and why this is exact:
 *
 *  1. Events go out in log order, in batches of at most RESUME_WINDOW
 *     consecutive events, one batch in flight at a time: batch k+1 is sent only
 *     once every partition of batch k has acknowledged it (acks = all).
 *  2. The producer is idempotent and sends one request at a time per broker
 *     (maxInFlightRequests 1), so its own retries neither duplicate nor reorder
 *     records: each partition holds its events in log order, without gaps (for
 *     one partition a request's records are one record batch, written whole or
 *     not at all).
 *  3. A crash (or a failed send) can leave only the last batch partly written,
 *     and differently per partition: partition A may hold its part of it while
 *     partition B does not (its broker failed, or took the request later). So
 *     "the highest position in Kafka" is not a safe restart point (B's events
 *     below it would be skipped), and neither is the lowest per partition (a
 *     quiet partition would send everything after its last event again).
 *
 * So, per partition p, let last(p) be the position of its last record (0 if
 * empty) and H the highest of them. H lies in the last batch that wrote
 * anything; every earlier batch was complete, and that batch began less than
 * RESUME_WINDOW events before H. Hence:
 *  - the events RESUME_WINDOW or more events before H are all in Kafka;
 *  - an event after those is in Kafka exactly when its position ≤ last(p) of
 *    the partition it goes to (by 2: partitions have no gaps and are in order);
 *  - nothing after H is in Kafka.
 * The relay re-reads the log from RESUME_WINDOW events before H and skips
 * exactly the events at or below last(p) of their partition: nothing Kafka
 * lacks is skipped, nothing is sent twice. No checkpoint is kept anywhere but in
 * Kafka itself. The window is counted in events, not positions, because
 * positions may have gaps (EventStoreDB's are log offsets).
 *
 * Transactions (relay.ts) make it stricter still: each batch is one
 * transaction, so a batch is in Kafka whole or not at all for read_committed
 * readers, and "last(p)" is the last *committed* record of p (readTails skips
 * transaction markers and aborted records).
 *
 * What this assumes: one relay per event store and topic prefix (a lock file
 * guards against a second on the same machine), topics written by nobody else,
 * and partition counts that do not change (init refuses a mismatch). A write of
 * a previous session cannot land after the tails are read: every session
 * fences the previous one first (InitProducerId with the same transactional.id
 * bumps the epoch; the old producer's late requests are refused and its open
 * transaction is aborted) and reads the tails only then.
 */
import type { EventStore } from '../../streams/eventstore/index.ts';
import type { PartitionTail } from '../../streams/kafka/index.ts';

/** Most events in one batch; on restart the relay re-reads this many events before the highest one in Kafka. */
export const RESUME_WINDOW = 10_000;

export interface ResumePlan {
  /** The highest position in Kafka (0 when the topics are empty). */
  highest: number;
  /** eventId header of that record, to check it is this store's event. */
  highestEventId: string | null;
  /** Whether the event at `position`, going to `topic`/`partition`, is already in Kafka. */
  isPublished(position: number, topic: string, partition: number): boolean;
}

export function planResume(tails: readonly PartitionTail[]): ResumePlan {
  const lastOf = new Map<string, number>();
  let highest = 0;
  let highestEventId: string | null = null;
  for (const tail of tails) {
    const position = tail.last?.position ?? 0;
    lastOf.set(`${tail.topic}\u0000${tail.partition}`, position);
    if (position > highest) {
      highest = position;
      highestEventId = tail.last?.eventId ?? null;
    }
  }
  return {
    highest,
    highestEventId,
    isPublished: (position, topic, partition) => position <= (lastOf.get(`${topic}\u0000${partition}`) ?? 0),
  };
}

/**
 * Where to subscribe from: after the event `window` events before `highest`
 * (0, the start of the log, when there are fewer). Everything up to it is in Kafka.
 */
export async function resumeAfter(store: Pick<EventStore, 'readAll'>, highest: number, window: number = RESUME_WINDOW): Promise<number> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError('resumeAfter: window must be a positive integer');
  if (highest === 0) return 0;
  const back = await store.readAll({ direction: 'backwards', fromPosition: highest, maxCount: window + 1, raw: true });
  return back.length === window + 1 ? (back[window] as { position: number }).position : 0;
}
