import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NovaCronError } from '../errors/index.ts';
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { openTempEventStore } from '../eventstore/sqlite/testing.ts';
import { createProcessorRunner, isUnhealthy } from './runner.ts';
import { openSqliteStateStore } from './sqlite-state.ts';
import { FatalProcessorError, type Processor } from './types.ts';

let dir: string;
let store: EventStore;
let close: () => Promise<void>;
beforeEach(() => ({ dir, store, close } = openTempEventStore('runner')));
afterEach(() => close());

const migrate = (db: Database.Database) => db.exec('CREATE TABLE IF NOT EXISTS health (cluster TEXT PRIMARY KEY, reports INTEGER NOT NULL, healthy INTEGER NOT NULL)');

/** Counts health reports per cluster: a count applied twice would show. */
const counter = (fail?: (event: RecordedEvent) => Error | null): Processor<Database.Database> => ({
  name: 'health-count',
  handles: ['ClusterHealthReported'],
  apply(batch, db) {
    const upsert = db.prepare(
      'INSERT INTO health (cluster, reports, healthy) VALUES (?, 1, ?) ON CONFLICT (cluster) DO UPDATE SET reports = reports + 1, healthy = excluded.healthy',
    );
    for (const event of batch) {
      const error = fail?.(event);
      if (error) throw error;
      upsert.run(event.data.clusterId as string, event.data.healthy ? 1 : 0);
    }
  },
});

const report = (cluster: string, healthy = true) => ({ type: 'ClusterHealthReported', data: { clusterId: cluster, regionId: 'r', healthy, detail: null } });
const joined = (cluster: string) => ({ type: 'ClusterJoined', data: { clusterId: cluster, regionId: 'r' } });

async function writeEvents(n: number): Promise<void> {
  for (let i = 0; i < n; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => store.append(`cluster-c${(i + j) % 7}`, [(i + j) % 5 === 0 ? joined(`c${(i + j) % 7}`) : report(`c${(i + j) % 7}`, (i + j) % 3 !== 0)])));
  }
}

const table = (db: Database.Database) => db.prepare('SELECT * FROM health ORDER BY cluster').all();

async function rebuild(name: string) {
  const state = openSqliteStateStore({ path: join(dir, `${name}.db`), migrate });
  const runner = createProcessorRunner({ processor: counter(), source: store, state });
  await runner.start();
  await expect(runner.waitFor(await store.headPosition(), 10_000)).resolves.toBe(true);
  await runner.stop();
  const rows = table(state.db);
  await state.close();
  return rows;
}

describe('processor runner', () => {
  it('applies the log in batches, commits the checkpoint with the writes, and follows live events', async () => {
    await writeEvents(1000);
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), migrate });
    const commits: number[] = [];
    const runner = createProcessorRunner({ processor: counter(), source: store, state, batchSize: 100, onCommit: (_p, batch) => commits.push(batch.length) });
    await runner.start();
    expect(await runner.waitFor(1000, 10_000)).toBe(true);
    expect(commits.length).toBeLessThan(1000 / 50); // batched, not one commit per event
    expect(Math.max(...commits)).toBeLessThanOrEqual(100);
    const reports = (state.db.prepare('SELECT SUM(reports) AS n FROM health').get() as { n: number }).n;
    expect(reports).toBe(800); // every 5th event is a ClusterJoined, which only moves the checkpoint
    expect(await runner.status()).toMatchObject({ name: 'health-count', state: 'running', checkpoint: 1000, head: 1000, lag: 0, parked: 0 });

    const live = await store.append('cluster-live', [report('live')]);
    expect(await runner.waitFor(live.position, 5_000)).toBe(true);
    expect(state.db.prepare('SELECT reports FROM health WHERE cluster = ?').get('live')).toEqual({ reports: 1 });
    await runner.stop();
    expect((await runner.status()).state).toBe('stopped');
    expect(await state.checkpoint()).toBe(live.position);
    await state.close();
  });

  it('parks an event it cannot apply, with its error, and goes on', async () => {
    await writeEvents(200);
    const poison = await store.append('cluster-poison', [report('poison')]);
    await writeEvents(100);
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), migrate });
    const errors: unknown[] = [];
    const runner = createProcessorRunner({
      processor: counter((e) => (e.data.clusterId === 'poison' ? new Error('cannot apply poison') : null)),
      source: store,
      state,
      onError: (e) => errors.push(e),
    });
    await runner.start();
    expect(await runner.waitFor(await store.headPosition(), 10_000)).toBe(true);
    expect(await state.parked()).toEqual([
      expect.objectContaining({ position: poison.position, streamId: 'cluster-poison', type: 'ClusterHealthReported', error: 'Error: cannot apply poison' }),
    ]);
    expect((await runner.status()).parked).toBe(1);
    await runner.stop();
    await state.close();
    // Everything else was applied exactly once.
    const healthy = await rebuild('reference');
    expect(table(openSqliteStateStore({ path: join(dir, 'p.db'), migrate }).db)).toEqual(healthy.filter((r) => (r as { cluster: string }).cluster !== 'poison'));
  });

  it('finds the event it cannot apply in a large batch by halving it, not by committing every event alone', async () => {
    await writeEvents(600);
    const poison = await store.append('cluster-poison', [report('poison')]);
    await writeEvents(400);
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), migrate });
    const commits: number[] = [];
    const errors: unknown[] = [];
    const runner = createProcessorRunner({
      processor: counter((e) => (e.data.clusterId === 'poison' ? new Error('cannot apply poison') : null)),
      source: store,
      state,
      batchSize: 2000,
      onCommit: (_position, batch) => commits.push(batch.length),
      onError: (e) => errors.push(e),
    });
    await runner.start();
    expect(await runner.waitFor(await store.headPosition(), 10_000)).toBe(true);
    expect(await state.parked()).toEqual([expect.objectContaining({ position: poison.position, error: 'Error: cannot apply poison' })]);
    expect(errors).toHaveLength(1);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(1001); // every event once, the parked one included
    expect(commits.length).toBeLessThan(25);
    await runner.stop();
    await state.close();
    const healthy = await rebuild('reference');
    expect(table(openSqliteStateStore({ path: join(dir, 'p.db'), migrate }).db)).toEqual(healthy.filter((r) => (r as { cluster: string }).cluster !== 'poison'));
  });

  it('retries a retriable error with backoff instead of parking', async () => {
    await writeEvents(50);
    let failures = 0;
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), migrate });
    const runner = createProcessorRunner({
      processor: counter(() => (failures++ < 3 ? new NovaCronError('NC_STORE_UNAVAILABLE', 'blip', { retriable: true }) : null)),
      source: store,
      state,
      backoff: { baseMs: 1, capMs: 5 },
    });
    await runner.start();
    expect(await runner.waitFor(50, 10_000)).toBe(true);
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(await state.parkedCount()).toBe(0);
    await runner.stop();
    await state.close();
  });

  it('shows a processor failing attempt after attempt as unhealthy with its reason, and clears once it recovers', async () => {
    await writeEvents(20);
    let down = true;
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), migrate });
    const runner = createProcessorRunner({
      processor: counter(() => (down ? new NovaCronError('NC_STORE_UNAVAILABLE', 'disk gone', { retriable: true }) : null)),
      source: store,
      state,
      maxRetries: 1_000,
      backoff: { baseMs: 1, capMs: 5 },
    });
    await runner.start();
    await expect.poll(async () => (await runner.status()).failures, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const failing = await runner.status();
    expect(failing).toMatchObject({ state: 'running', error: 'NovaCronError: disk gone' });
    expect(isUnhealthy(failing)).toBe(true);

    down = false;
    expect(await runner.waitFor(20, 10_000)).toBe(true);
    const recovered = await runner.status();
    expect(recovered).toMatchObject({ state: 'running', error: null, failures: 0, lag: 0 });
    expect(isUnhealthy(recovered)).toBe(false);
    await runner.stop();
    await state.close();
  });

  it('a crash between apply and commit loses nothing and counts nothing twice', async () => {
    await writeEvents(600);
    const path = join(dir, 'crashy.db');
    let commits = 0;
    const crashing = openSqliteStateStore({
      path,
      migrate,
      beforeCommit: () => {
        if (++commits === 3) throw new FatalProcessorError('simulated crash after apply, before commit');
      },
    });
    const first = createProcessorRunner({ processor: counter(), source: store, state: crashing, batchSize: 64 });
    await first.start();
    await vi.waitFor(async () => expect((await first.status()).state).toBe('failed'));
    const crashedAt = await crashing.checkpoint();
    expect(crashedAt).toBeGreaterThan(0);
    expect(crashedAt).toBeLessThan(600);
    await first.stop();
    await crashing.close();

    const reopened = openSqliteStateStore({ path, migrate });
    const second = createProcessorRunner({ processor: counter(), source: store, state: reopened, batchSize: 64 });
    await second.start();
    expect(await second.waitFor(600, 10_000)).toBe(true);
    await second.stop();
    expect(table(reopened.db)).toEqual(await rebuild('fresh'));
    await reopened.close();
  });

  it('waitFor answers false after its timeout when the position is not reached', async () => {
    const state = openSqliteStateStore({ path: ':memory:', migrate });
    const runner = createProcessorRunner({ processor: counter(), source: store, state });
    await runner.start();
    expect(await runner.waitFor(10, 20)).toBe(false);
    await runner.stop();
    await state.close();
  });

  it('awaits the processor\'s prepare before each batch\'s apply, outside the transaction, with the events it applies', async () => {
    await writeEvents(200);
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), migrate });
    const steps: string[] = [];
    const base = counter();
    const runner = createProcessorRunner({
      processor: {
        ...base,
        async prepare(batch) {
          expect(state.db.inTransaction).toBe(false);
          expect(batch.every((e) => e.type === 'ClusterHealthReported')).toBe(true);
          await new Promise((resolve) => setImmediate(resolve));
          steps.push(`prepare ${batch.length}`);
        },
        apply(batch, db) {
          steps.push(`apply ${batch.length}`);
          base.apply(batch, db);
        },
      },
      source: store,
      state,
      batchSize: 50,
    });
    await runner.start();
    expect(await runner.waitFor(200, 10_000)).toBe(true);
    await runner.stop();
    expect(steps.length).toBeGreaterThan(1);
    for (let i = 0; i < steps.length; i += 2) {
      expect(steps[i]).toMatch(/^prepare \d+$/);
      expect(steps[i + 1]).toBe(steps[i]!.replace('prepare', 'apply'));
    }
    await state.close();
  });

  it('retries a batch whose prepare failed retriably, then applies it once', async () => {
    await writeEvents(20);
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), migrate });
    let fails = 2;
    const runner = createProcessorRunner({
      processor: {
        ...counter(),
        async prepare() {
          if (fails-- > 0) throw Object.assign(new Error('worker gone'), { retriable: true });
        },
      },
      source: store,
      state,
      backoff: { baseMs: 1, capMs: 2 },
    });
    await runner.start();
    expect(await runner.waitFor(20, 10_000)).toBe(true);
    await runner.stop();
    expect((state.db.prepare('SELECT SUM(reports) AS n FROM health').get() as { n: number }).n).toBe(16);
    expect(await state.parkedCount()).toBe(0);
    await state.close();
  });
});
