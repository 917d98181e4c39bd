import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStateStore } from './sqlite-state.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-sqlite-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const migrate = (db: Database.Database) => db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
const pragma = (db: Database.Database, name: string) => db.pragma(name, { simple: true }) as number;
const SYNCHRONOUS = { OFF: 0, NORMAL: 1, FULL: 2 };

describe('SQLite state store', () => {
  it('keeps the configured durability outside bulk mode', async () => {
    const state = openSqliteStateStore({ path: join(dir, 'p.db'), sync: 'full', migrate });
    expect(pragma(state.db, 'synchronous')).toBe(SYNCHRONOUS.FULL);
    expect(pragma(state.db, 'wal_autocheckpoint')).toBe(1000);
    state.endBulk(); // a no-op
    expect(pragma(state.db, 'synchronous')).toBe(SYNCHRONOUS.FULL);
    await state.close();
  });

  it('bulk mode skips fsync until endBulk restores the configured durability and checkpoints everything', async () => {
    const path = join(dir, 'p.db');
    const state = openSqliteStateStore({ path, sync: 'normal', bulk: true, migrate });
    expect(pragma(state.db, 'synchronous')).toBe(SYNCHRONOUS.OFF);
    expect(pragma(state.db, 'wal_autocheckpoint')).toBe(10_000);
    for (let batch = 0; batch < 20; batch++) {
      await state.commit((batch + 1) * 100, (db) => {
        const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
        for (let i = 0; i < 100; i++) insert.run(batch * 100 + i, 'x'.repeat(200));
      });
    }
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);

    state.endBulk();
    expect(pragma(state.db, 'synchronous')).toBe(SYNCHRONOUS.NORMAL);
    expect(pragma(state.db, 'wal_autocheckpoint')).toBe(1000);
    expect(statSync(`${path}-wal`).size).toBe(0); // everything is in the database file
    await state.commit(2100, (db) => {
      db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').run(2000, 'after');
    });
    await state.close();

    const reopened = openSqliteStateStore({ path, sync: 'normal', migrate });
    expect(await reopened.checkpoint()).toBe(2100);
    expect((reopened.db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(2001);
    await reopened.close();
  });
});
