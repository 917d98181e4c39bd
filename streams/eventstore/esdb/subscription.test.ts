import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { AllStreamResolvedEvent } from '@kurrent/kurrentdb-client';
import type { RecordedEvent } from '../port.ts';
import { createEsdbSubscription, type LiveSource } from './subscription.ts';

/** A stand-in for the client's subscription: an object-mode stream the test writes resolved events into. */
function source(highWaterMark: number): PassThrough & LiveSource & { unsubscribed: boolean } {
  const stream = new PassThrough({ objectMode: true, highWaterMark }) as PassThrough & LiveSource & { unsubscribed: boolean };
  stream.unsubscribed = false;
  stream.unsubscribe = async () => {
    stream.unsubscribed = true;
    stream.end();
  };
  return stream;
}

const resolved = (position: number, streamId = 'cluster-1'): AllStreamResolvedEvent =>
  ({ event: { streamId, position: { commit: BigInt(position), prepare: BigInt(position) } } }) as unknown as AllStreamResolvedEvent;

const convert = (r: AllStreamResolvedEvent): RecordedEvent | null =>
  r.event && !r.event.streamId.startsWith('$')
    ? ({ streamId: r.event.streamId, position: Number(r.event.position.commit), revision: 0 } as RecordedEvent)
    : null;

/** Writes as a gRPC stream would: stops when the stream says so, goes on at 'drain'. */
function feed(stream: PassThrough, events: AllStreamResolvedEvent[]): () => number {
  let written = 0;
  const pump = () => {
    while (written < events.length) {
      if (!stream.write(events[written++])) {
        stream.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return () => written;
}

describe('ESDB catch-up subscription', () => {
  it('hands out events in order, skips what the port does not show, and starts after afterPosition', async () => {
    const live = source(8);
    const opened: number[] = [];
    const subscription = createEsdbSubscription({
      afterPosition: 100,
      batchSize: 8,
      open: (after) => {
        opened.push(after);
        return live;
      },
      convert,
    });
    const iterator = subscription[Symbol.asyncIterator]();
    const first = iterator.next();
    feed(live, [resolved(100), resolved(150, '$stats'), resolved(200), resolved(300)]);
    expect((await first).value?.position).toBe(200);
    expect((await iterator.next()).value?.position).toBe(300);
    expect(subscription.position).toBe(300);
    expect(opened).toEqual([100]);
    await subscription.stop();
    expect((await iterator.next()).done).toBe(true);
    expect(live.unsubscribed).toBe(true);
  });

  it('a slow consumer holds at most one batch: the client stream is paused, so the writer stops', async () => {
    const live = source(16);
    const subscription = createEsdbSubscription({ batchSize: 16, open: () => live, convert });
    const iterator = subscription[Symbol.asyncIterator]();
    const first = iterator.next();
    const written = feed(live, Array.from({ length: 1000 }, (_, i) => resolved(1000 + i * 10)));
    await first;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The queue (16) plus the stream's own buffers (highWaterMark 16 each side): nowhere near 1000.
    expect(subscription.buffered).toBeLessThan(16);
    expect(written()).toBeLessThanOrEqual(16 * 4);
    let count = 1;
    let maxBuffered = 0;
    while (count < 1000) {
      const next = await iterator.next();
      expect(next.value?.position).toBe(1000 + count * 10);
      maxBuffered = Math.max(maxBuffered, subscription.buffered);
      count += 1;
      if (count % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(maxBuffered).toBeLessThan(16);
    await subscription.stop();
  });

  it('hands over buffered events in batches, in order with next()', async () => {
    const live = source(8);
    const subscription = createEsdbSubscription({ batchSize: 8, open: () => live, convert });
    const iterator = subscription[Symbol.asyncIterator]();
    const first = iterator.next();
    feed(live, [resolved(10), resolved(20), resolved(30), resolved(40)]);
    expect((await first).value?.position).toBe(10);
    await vi.waitFor(() => expect(subscription.buffered).toBe(3));
    expect(subscription.takeBuffered?.(2).map((e) => e.position)).toEqual([20, 30]);
    expect(subscription.position).toBe(30);
    expect((await iterator.next()).value?.position).toBe(40);
    expect(subscription.takeBuffered?.(5)).toEqual([]);
    await subscription.stop();
  });

  it('a pending next() resolves as done when stopped', async () => {
    const subscription = createEsdbSubscription({ open: () => source(4), convert });
    const pending = subscription[Symbol.asyncIterator]().next();
    await subscription.stop();
    expect((await pending).done).toBe(true);
  });

  it('reconnects after a dropped connection from the last event queued, without repeating one', async () => {
    const sources = [source(8), source(8)];
    const opened: number[] = [];
    const subscription = createEsdbSubscription({
      batchSize: 8,
      reconnectBaseMs: 1,
      open: (after) => {
        opened.push(after);
        return sources[opened.length - 1] as LiveSource;
      },
      convert,
    });
    const iterator = subscription[Symbol.asyncIterator]();
    const first = iterator.next();
    feed(sources[0] as PassThrough, [resolved(10), resolved(20)]);
    expect((await first).value?.position).toBe(10);
    sources[0]?.emit('error', Object.assign(new Error('connection reset'), { type: 'unavailable' }));
    expect((await iterator.next()).value?.position).toBe(20);
    const third = iterator.next();
    await vi.waitFor(() => expect(opened).toEqual([0, 20]));
    feed(sources[1] as PassThrough, [resolved(20), resolved(30)]); // a server that repeats its start is tolerated
    expect((await third).value?.position).toBe(30);
    await subscription.stop();
  });

  it('fails the iteration with NC_STORE_UNAVAILABLE on an error that is not transient', async () => {
    const live = source(4);
    const subscription = createEsdbSubscription({ open: () => live, convert });
    const pending = subscription[Symbol.asyncIterator]().next();
    live.emit('error', Object.assign(new Error('access denied'), { type: 'access-denied' }));
    await expect(pending).rejects.toMatchObject({ code: 'NC_STORE_UNAVAILABLE' });
  });

  it('validates its options', () => {
    expect(() => createEsdbSubscription({ open: () => source(1), convert, batchSize: 0 })).toThrow(RangeError);
    expect(() => createEsdbSubscription({ open: () => source(1), convert, afterPosition: -1 })).toThrow(RangeError);
  });
});
