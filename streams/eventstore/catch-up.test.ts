import { describe, expect, it } from 'vitest';
import { createCatchUpSubscription, type CatchUpSource } from './catch-up.ts';
import type { RecordedEvent } from './port.ts';

const event = (position: number): RecordedEvent => ({
  streamId: `cluster-c${position}`,
  revision: 0,
  position,
  type: 'ClusterJoined',
  data: { clusterId: `c${position}`, regionId: 'eu' },
  metadata: { eventId: `e${position}`, tenantId: null, correlationId: 'c', causationId: null, actor: 'operator:test', occurredAt: '2030-01-01T00:00:00.000Z', schemaVersion: 1 },
  recordedAt: '2030-01-01T00:00:00.000Z',
});

/** A log of `length` events in memory; `reads` counts the pages read. */
function log(length: number) {
  const events = Array.from({ length }, (_, i) => event(i + 1));
  const source: CatchUpSource & { reads: number } = {
    reads: 0,
    readPage(afterPosition, maxCount) {
      source.reads += 1;
      return events.filter((e) => e.position > afterPosition).slice(0, maxCount);
    },
    onNextCommit: () => () => undefined,
  };
  return source;
}

describe('catch-up subscription: takeBuffered', () => {
  it('hands over what next() would deliver one by one, without reading the store, and never more than asked', async () => {
    const source = log(10);
    const subscription = createCatchUpSubscription(source, { batchSize: 4 });
    const events = subscription[Symbol.asyncIterator]();
    expect(subscription.takeBuffered(10)).toEqual([]); // nothing read before the consumer asks

    const first = await events.next();
    expect(first.value?.position).toBe(1);
    expect(subscription.buffered).toBe(3);
    expect(subscription.takeBuffered(2).map((e) => e.position)).toEqual([2, 3]);
    expect(subscription.position).toBe(3);
    expect(subscription.buffered).toBe(1);
    expect(subscription.takeBuffered(5).map((e) => e.position)).toEqual([4]);
    expect(subscription.takeBuffered(5)).toEqual([]);
    expect(source.reads).toBe(1);

    // next() goes on after the last event taken: no gap, no duplicate.
    const seen: number[] = [];
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      seen.push(next.value.position, ...subscription.takeBuffered(100).map((e) => e.position));
      if (seen.at(-1) === 10) break;
    }
    expect(seen).toEqual([5, 6, 7, 8, 9, 10]);
    expect(subscription.position).toBe(10);
    await subscription.stop();
  });

  it('takes nothing once stopped, or when asked for none', async () => {
    const subscription = createCatchUpSubscription(log(10), { batchSize: 8 });
    const events = subscription[Symbol.asyncIterator]();
    await events.next();
    expect(subscription.takeBuffered(0)).toEqual([]);
    await subscription.stop();
    expect(subscription.takeBuffered(5)).toEqual([]);
    expect((await events.next()).done).toBe(true);
  });
});
