import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../eventstore/index.ts';
import { openSqliteStateStore } from '../sqlite-state.ts';
import { FencedBatchError } from './errors.ts';
import { openKafkaStateStore, type KafkaStateStore } from './state.ts';

const migrate = (db: Database.Database) =>
  db.exec('CREATE TABLE IF NOT EXISTS seen (stream_id TEXT NOT NULL, revision INTEGER NOT NULL, PRIMARY KEY (stream_id, revision)) WITHOUT ROWID');

const event = (streamId: string, revision: number, position: number): RecordedEvent => ({
  streamId,
  revision,
  position,
  type: 'ClusterHealthReported',
  data: {},
  metadata: { eventId: `e-${position}`, tenantId: null, correlationId: 'c', causationId: null, actor: 'system:test', occurredAt: '2026-01-01T00:00:00.000Z', schemaVersion: 1 },
  recordedAt: '2026-01-01T00:00:00.000Z',
});

/** Inserts every event of the batch: a duplicate application would violate the primary key. */
const insertAll = (batch: readonly RecordedEvent[]) => (db: Database.Database) => {
  const insert = db.prepare('INSERT INTO seen (stream_id, revision) VALUES (?, ?)');
  for (const e of batch) insert.run(e.streamId, e.revision);
};
const seen = (store: KafkaStateStore) => store.db.prepare('SELECT stream_id, revision FROM seen ORDER BY stream_id, revision').all();

let dir: string;
let path: string;
let a: KafkaStateStore;
let b: KafkaStateStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-kafka-state-'));
  path = join(dir, 'p.g1.db');
  a = openKafkaStateStore({ path, migrate, sync: 'normal' });
  b = openKafkaStateStore({ path, migrate, sync: 'normal' });
});
afterEach(async () => {
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Kafka state store: offsets, fencing, stream revisions', () => {
  it('a commit with a stale expected offset is refused and rolled back (a zombie after a rebalance)', () => {
    const batch = [event('vm-1', 0, 1), event('vm-1', 1, 2), event('vm-2', 0, 3)];
    // Both instances read the partition's stored offset before their batch: none yet.
    const expectedA = a.offset('novacron.vm.events', 0);
    const expectedB = b.offset('novacron.vm.events', 0);
    expect([expectedA, expectedB]).toEqual([-1, -1]);

    // B (the new owner after a rebalance) commits first.
    b.commit({ topic: 'novacron.vm.events', partition: 0, expected: expectedB, offset: 2, events: batch, work: insertAll(batch) });

    // A (the zombie) commits the same messages: refused, nothing of it is written.
    let refused: unknown;
    try {
      a.commit({ topic: 'novacron.vm.events', partition: 0, expected: expectedA, offset: 2, events: batch, work: insertAll(batch) });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(FencedBatchError);
    expect(refused).toMatchObject({ expected: -1, stored: 2, retriable: false });
    expect(a.offset('novacron.vm.events', 0)).toBe(2);
    expect(seen(a)).toEqual([
      { stream_id: 'vm-1', revision: 0 },
      { stream_id: 'vm-1', revision: 1 },
      { stream_id: 'vm-2', revision: 0 },
    ]);

    // Reading the offset again, A goes on after what B applied.
    const next = [event('vm-1', 2, 7)];
    a.commit({ topic: 'novacron.vm.events', partition: 0, expected: a.offset('novacron.vm.events', 0), offset: 3, events: next, work: insertAll(next) });
    expect(b.offset('novacron.vm.events', 0)).toBe(3);
    // …and now B's idea of the partition is stale in turn.
    expect(() => b.commit({ topic: 'novacron.vm.events', partition: 0, expected: 2, offset: 3, events: next, work: insertAll(next) })).toThrow(FencedBatchError);
  });

  it('fences a stale writer even when its batch would apply cleanly, and when it parks', () => {
    b.commit({ topic: 't', partition: 1, expected: -1, offset: 9, events: [], work: () => undefined });
    // No primary-key clash would stop A here: only the fence does.
    const fresh = [event('vm-9', 0, 99)];
    expect(() => a.commit({ topic: 't', partition: 1, expected: 4, offset: 12, events: fresh, work: insertAll(fresh) })).toThrow(FencedBatchError);
    expect(seen(a)).toEqual([]);
    expect(() => a.park({ topic: 't', partition: 1, expected: 4, offset: 10, event: fresh[0]!, error: new Error('bad') })).toThrow(FencedBatchError);
    expect(a.appliedRevision('vm-9')).toBe(-1);
    // Other partitions are independent.
    a.commit({ topic: 't', partition: 2, expected: -1, offset: 0, events: fresh, work: insertAll(fresh) });
    expect(a.offsets()).toEqual([
      { topic: 't', partition: 1, offset: 9 },
      { topic: 't', partition: 2, offset: 0 },
    ]);
  });

  it('records the last revision of every stream of the batch with the writes, and parks with the offset', async () => {
    const batch = [event('vm-1', 0, 1), event('vm-2', 0, 2), event('vm-1', 1, 4), event('vm-2', 1, 5)];
    a.commit({ topic: 't', partition: 0, expected: -1, offset: 3, events: batch, work: () => undefined });
    expect(b.appliedRevision('vm-1')).toBe(1);
    expect(b.appliedRevision('vm-2')).toBe(1);
    expect(b.appliedRevision('vm-3')).toBe(-1);

    b.park({ topic: 't', partition: 0, expected: 3, offset: 4, event: event('vm-1', 2, 9), error: new TypeError('no rule') });
    expect(a.offset('t', 0)).toBe(4);
    expect(a.appliedRevision('vm-1')).toBe(2);
    expect(await a.parked()).toMatchObject([{ position: 9, streamId: 'vm-1', revision: 2, error: 'TypeError: no rule' }]);

    // A revision never moves back (another partition's late batch of an older revision, or a projection's own writes).
    a.commit({ topic: 't', partition: 0, expected: 4, offset: 5, events: [event('vm-1', 1, 4)], work: () => undefined });
    expect(a.appliedRevision('vm-1')).toBe(2);
  });

  it('refuses a failed apply as a whole: neither writes nor offset nor revisions', () => {
    const batch = [event('vm-1', 0, 1)];
    expect(() =>
      a.commit({
        topic: 't',
        partition: 0,
        expected: -1,
        offset: 0,
        events: batch,
        work: (db) => {
          insertAll(batch)(db);
          throw new Error('apply failed');
        },
      }),
    ).toThrow('apply failed');
    expect(seen(a)).toEqual([]);
    expect(a.offset('t', 0)).toBe(-1);
    expect(a.appliedRevision('vm-1')).toBe(-1);
  });

  it('tells a file built by the embedded runner from the log', async () => {
    const logPath = join(dir, 'from-log.db');
    const embedded = openSqliteStateStore({ path: logPath, migrate });
    await embedded.commit(42, () => undefined);
    await embedded.close();
    const reopened = openKafkaStateStore({ path: logPath, migrate });
    expect(reopened.builtFromLog()).toBe(true);
    await reopened.close();
    expect(a.builtFromLog()).toBe(false);
  });
});
