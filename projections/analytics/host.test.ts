import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempEventStore, type TempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import type { ClickHouse } from '../../streams/clickhouse/client.ts';
import { createAnalyticsHost, rawLog } from './host.ts';
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

describe('the read-only analytics host (novacron start --role api)', () => {
  /** A ClickHouse whose checkpoint the test moves, recording every statement. */
  function fakeClickHouse() {
    const calls = { query: [] as string[], command: [] as string[], insert: [] as string[], closed: 0 };
    let checkpoint = 0;
    const clickhouse: ClickHouse = {
      endpoint: 'http://fake:8123',
      async query<Row>(sql: string) {
        calls.query.push(sql);
        if (sql.includes('processor_checkpoints')) return [{ position: String(checkpoint) }] as Row[];
        if (sql.includes('processor_parked')) return [{ n: '2' }] as Row[];
        return [] as Row[];
      },
      async command(sql) {
        calls.command.push(sql);
      },
      async insert(_database, table) {
        calls.insert.push(table);
      },
      ping: async () => true,
      async close() {
        calls.closed++;
      },
    };
    return { clickhouse, calls, moveTo: (position: number) => (checkpoint = position) };
  }

  it('runs nothing and writes nothing; shows and waits on the checkpoint ClickHouse holds', async () => {
    const fake = fakeClickHouse();
    const host = createAnalyticsHost({ source: temp.store, clickhouse: fake.clickhouse, database: 'novacron', run: false, pollIntervalMs: 5 });
    await host.start();
    const head = await appendAll(temp.store, [ev.regionAdded('r0', '2026-01-01T10:00:00Z'), ev.regionAdded('r1', '2026-01-01T10:00:00Z')]);
    expect(await host.status()).toEqual([expect.objectContaining({ name: 'analytics', state: 'idle', checkpoint: 0, head, lag: head, parked: 2, processed: 0, error: null })]);
    expect(await host.waitFor('analytics', head, 30)).toBe(false);

    const waiting = host.waitFor('analytics', head, 5_000);
    fake.moveTo(head);
    expect(await waiting).toBe(true);
    expect(host.checkpoint('analytics')).toBe(head);
    expect(await host.status()).toEqual([expect.objectContaining({ state: 'idle', checkpoint: head, lag: 0 })]);
    await expect(host.replay('analytics')).rejects.toMatchObject({ code: 'NC_VALIDATION' });

    await host.stop();
    expect(fake.calls.command).toEqual([]);
    expect(fake.calls.insert).toEqual([]);
    expect(fake.calls.query.every((sql) => /^\s*SELECT/.test(sql))).toBe(true);
    expect(fake.calls.closed).toBe(1);
  });

  it('shows ClickHouse failing in its status, keeping the last checkpoint read', async () => {
    const fake = fakeClickHouse();
    const host = createAnalyticsHost({ source: temp.store, clickhouse: { ...fake.clickhouse, query: () => Promise.reject(new Error('connection refused')) }, database: 'novacron', run: false });
    await host.start();
    expect(await host.status()).toEqual([expect.objectContaining({ state: 'idle', checkpoint: 0, parked: 0, error: 'Error: connection refused' })]);
    await host.stop();
  });
});
