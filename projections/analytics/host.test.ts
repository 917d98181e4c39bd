import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempEventStore, type TempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import { rawLog } from './host.ts';
import { appendAll, ev } from './testing.ts';

let temp: TempEventStore;
beforeEach(() => {
  temp = openTempEventStore('analytics-log');
});
afterEach(() => temp.close());

describe('the log the analytics processor reads', () => {
  it('is raw: personal fields as stored (encrypted)', async () => {
    await appendAll(temp.store, [ev.tenantCreated('acme', '2026-01-01T10:00:00Z', 'ops@acme.example')]);
    const subscription = rawLog(temp.store).subscribeToAll({});
    const first = await subscription[Symbol.asyncIterator]().next();
    await subscription.stop();
    expect(String((first.value as { data: Record<string, unknown> }).data['contactEmail'])).toMatch(/^ncpii:/);
    expect((await temp.store.readAll())[0]?.data['contactEmail']).toBe('ops@acme.example');
  });

  it('is read at most once per interval, so a busy log arrives in batches; a lone event is not delayed', async () => {
    const subscription = rawLog(temp.store, 400).subscribeToAll({});
    const events = subscription[Symbol.asyncIterator]();
    await appendAll(temp.store, [ev.regionAdded('r0', '2026-01-01T10:00:00Z')]);
    let started = performance.now();
    expect((await events.next()).value).toMatchObject({ position: 1 });
    expect(performance.now() - started).toBeLessThan(300);
    // Five events while the next read waits for the interval to pass: one read takes them all.
    const next = events.next();
    started = performance.now();
    await appendAll(temp.store, [1, 2, 3, 4, 5].map((i) => ev.regionAdded(`r${i}`, '2026-01-01T10:00:00Z')));
    expect((await next).value).toMatchObject({ position: 2 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(subscription.buffered).toBe(4);
    expect(subscription.takeBuffered?.(10).map((e) => e.position)).toEqual([3, 4, 5, 6]);
    await subscription.stop();
  });
});
