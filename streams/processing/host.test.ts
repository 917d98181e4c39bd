import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openTempEventStore } from '../eventstore/sqlite/testing.ts';
import { isNovaCronError } from '../errors/index.ts';
import { guardReplay } from './generations.ts';
import { createProjectionHost } from './host.ts';
import type { SqliteProjection } from './projection.ts';

let dir: string;
let store: EventStore;
let close: () => Promise<void>;
beforeEach(() => ({ dir, store, close } = openTempEventStore('host')));
afterEach(() => close());

const reports: SqliteProjection<{ count(): number; synchronous(): number }> = {
  name: 'reports',
  version: 1,
  handles: ['ClusterHealthReported'],
  migrate: (db) => db.exec('CREATE TABLE IF NOT EXISTS n (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL); INSERT OR IGNORE INTO n VALUES (1, 0)'),
  apply: (batch, db) => {
    db.prepare('UPDATE n SET count = count + ?').run(batch.length);
  },
  queries: (db: Database.Database) => ({
    count: () => (db.prepare('SELECT count FROM n').get() as { count: number }).count,
    synchronous: () => db.pragma('synchronous', { simple: true }) as number,
  }),
};
const report = { type: 'ClusterHealthReported', data: { clusterId: 'c', regionId: 'r', healthy: true, detail: null } };

describe('projection host', () => {
  it('serves the old generation during a replay, then switches and drops it', async () => {
    for (let i = 0; i < 300; i++) await store.append('cluster-c', [report]);
    const host = createProjectionHost({ dir: join(dir, 'projections'), source: store, projections: [reports], sync: 'normal' });
    await host.start();
    expect(await host.waitFor('reports', 300, 5000)).toBe(true);
    expect(host.queries<{ count(): number }>('reports').count()).toBe(300);

    const seen: number[] = [];
    const replayed = await host.replay('reports', { onProgress: (done) => seen.push(done) });
    expect(replayed).toMatchObject({ name: 'reports', generation: 2, events: 300 });
    expect(seen.at(-1)).toBe(300);
    expect(host.queries<{ count(): number }>('reports').count()).toBe(300);
    expect(existsSync(join(dir, 'projections', 'reports.g1.db'))).toBe(false);
    expect((await host.status())[0]).toMatchObject({ name: 'reports', generation: 2, lag: 0, state: 'running' });
    // Rebuilt in bulk mode, it serves with the configured durability (NORMAL = 1).
    expect(host.queries<{ synchronous(): number }>('reports').synchronous()).toBe(1);

    // The new generation goes on with live events.
    const live = await store.append('cluster-c', [report]);
    expect(await host.waitFor('reports', live.position, 5000)).toBe(true);
    expect(host.queries<{ count(): number }>('reports').count()).toBe(301);
    await host.stop();
  });

  it('a running host follows a replay made by another process', async () => {
    for (let i = 0; i < 50; i++) await store.append('cluster-c', [report]);
    const server = createProjectionHost({ dir: join(dir, 'projections'), source: store, projections: [reports], sync: 'normal', watchIntervalMs: 20 });
    await server.start();
    const cli = createProjectionHost({ dir: join(dir, 'projections'), source: store, projections: [reports], sync: 'normal' });
    await cli.replay('reports');
    await cli.stop();
    await expect.poll(async () => (await server.status())[0]?.generation, { timeout: 5000 }).toBe(2);
    const live = await store.append('cluster-c', [report]);
    expect(await server.waitFor('reports', live.position, 5000)).toBe(true);
    expect(server.queries<{ count(): number }>('reports').count()).toBe(51);
    await server.stop();
  });

  it('a bumped projection version drops the generation built by the old code and rebuilds from the log', async () => {
    for (let i = 0; i < 40; i++) await store.append('cluster-c', [report]);
    const projections = join(dir, 'projections');
    const v1 = createProjectionHost({ dir: projections, source: store, projections: [reports], sync: 'normal' });
    await v1.start();
    expect(await v1.waitFor('reports', 40, 5000)).toBe(true);
    await v1.stop();

    // Version 2 counts twice: its rows mean something else, so version 1's cannot be kept.
    const doubled = { ...reports, version: 2, apply: (batch: readonly unknown[], db: Database.Database) => void db.prepare('UPDATE n SET count = count + ?').run(2 * batch.length) };
    const v2 = createProjectionHost({ dir: projections, source: store, projections: [doubled], sync: 'normal' });
    await v2.start();
    expect(await v2.waitFor('reports', 40, 5000)).toBe(true);
    expect(v2.queries<{ count(): number }>('reports').count()).toBe(80);
    expect((await v2.status())[0]).toMatchObject({ generation: 2, version: 2, lag: 0 });
    expect(existsSync(join(projections, 'reports.g1.db'))).toBe(false);

    await v2.stop();
  });

  describe('the replay guard', () => {
    // One row per cluster; while `broken` is set every event fails to apply (as records whose schema the registry lost would).
    let broken = false;
    const clusters: SqliteProjection<{ count(): number }> = {
      name: 'clusters',
      version: 1,
      handles: ['ClusterHealthReported'],
      migrate: (db) => db.exec('CREATE TABLE IF NOT EXISTS clusters (id TEXT PRIMARY KEY)'),
      apply: (batch, db) => {
        if (broken) throw new Error('Schema 31 not found');
        for (const event of batch) db.prepare('INSERT OR IGNORE INTO clusters (id) VALUES (?)').run((event.data as { clusterId: string }).clusterId);
      },
      queries: (db: Database.Database) => ({ count: () => (db.prepare('SELECT COUNT(*) AS n FROM clusters').get() as { n: number }).n }),
    };
    afterEach(() => {
      broken = false;
    });

    it('a replay whose new generation parks events is not switched in; the live one keeps serving', async () => {
      for (let i = 0; i < 20; i++) await store.append(`cluster-c${i}`, [{ ...report, data: { ...report.data, clusterId: `c${i}` } }]);
      const projections = join(dir, 'projections');
      const host = createProjectionHost({ dir: projections, source: store, projections: [clusters], sync: 'normal' });
      await host.start();
      expect(await host.waitFor('clusters', 20, 5000)).toBe(true);
      expect(host.queries<{ count(): number }>('clusters').count()).toBe(20);

      broken = true;
      const refused = await host.replay('clusters').then(
        () => null,
        (error: unknown) => error,
      );
      expect(isNovaCronError(refused, 'NC_REPLAY_REFUSED')).toBe(true);
      expect((refused as Error).message).toMatch(/parked 20 events where the live generation parked 0/);
      expect((await host.status())[0]).toMatchObject({ name: 'clusters', generation: 1, parked: 0 });
      expect(host.queries<{ count(): number }>('clusters').count()).toBe(20);
      expect(existsSync(join(projections, 'clusters.g2.db'))).toBe(false);

      // The live generation goes on with new events.
      broken = false;
      const live = await store.append('cluster-c99', [{ ...report, data: { ...report.data, clusterId: 'c99' } }]);
      expect(await host.waitFor('clusters', live.position, 5000)).toBe(true);
      expect(host.queries<{ count(): number }>('clusters').count()).toBe(21);

      // An operator's override switches anyway.
      broken = true;
      const forced = await host.replay('clusters', { force: true });
      expect(forced.generation).toBe(2);
      expect((await host.status())[0]).toMatchObject({ generation: 2, parked: 21 });
      await host.stop();
    });

    it('refuses a generation with more parked events or fewer than half the rows, and nothing else', () => {
      const refuses = (live: { parked: number; rows: number }, next: { parked: number; rows: number }) => {
        try {
          guardReplay('p', live, next);
          return false;
        } catch (error) {
          if (!isNovaCronError(error, 'NC_REPLAY_REFUSED')) throw error;
          return true;
        }
      };
      expect(refuses({ parked: 0, rows: 100 }, { parked: 0, rows: 100 })).toBe(false);
      expect(refuses({ parked: 0, rows: 100 }, { parked: 0, rows: 120 })).toBe(false);
      expect(refuses({ parked: 3, rows: 100 }, { parked: 3, rows: 100 })).toBe(false);
      expect(refuses({ parked: 3, rows: 100 }, { parked: 1, rows: 100 })).toBe(false);
      expect(refuses({ parked: 0, rows: 100 }, { parked: 0, rows: 50 })).toBe(false);
      expect(refuses({ parked: 0, rows: 0 }, { parked: 0, rows: 0 })).toBe(false);
      expect(refuses({ parked: 0, rows: 100 }, { parked: 1, rows: 100 })).toBe(true);
      expect(refuses({ parked: 0, rows: 100 }, { parked: 0, rows: 49 })).toBe(true);
      expect(refuses({ parked: 0, rows: 100 }, { parked: 0, rows: 0 })).toBe(true);
      expect(() => guardReplay('p', { parked: 0, rows: 100 }, { parked: 9, rows: 0 }, { force: true })).not.toThrow();
    });
  });
});
