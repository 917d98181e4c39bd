import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { eventStoreContract } from '../contract/suite.ts';
import { createSqliteEventStore } from './store.ts';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import { randomBytes } from 'node:crypto';
import { tenantCreated } from '../contract/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'novacron-es-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

eventStoreContract('SQLite', {
  open: async (codec) => createSqliteEventStore({ path: join(dir, 'contract.db'), codec, pollIntervalMs: 50 }),
});

const codec = () =>
  createEventCodec({
    catalog: defaultCatalog(),
    cipher: createPersonalDataCipher(createKeyStore({ path: ':memory:', masterKey: randomBytes(32) })),
  });

describe('SQLite event store specifics', () => {
  it('commits with synchronous=FULL in WAL mode by default, NORMAL when asked', async () => {
    for (const sync of ['full', 'normal'] as const) {
      const store = createSqliteEventStore({ path: join(dir, `sync-${sync}.db`), codec: codec(), sync });
      expect(store.settings).toEqual({ journalMode: 'wal', synchronous: sync });
      await store.close();
    }
    const byDefault = createSqliteEventStore({ path: join(dir, 'sync-default.db'), codec: codec() });
    expect(byDefault.settings.synchronous).toBe('full');
    await byDefault.close();
  });

  it('keeps personal data encrypted in the database file', async () => {
    const path = join(dir, 'pii.db');
    const store = createSqliteEventStore({ path, codec: codec() });
    await store.append('tenant-pii', [tenantCreated('pii', 'carol@example.com')]);
    await store.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT data FROM events').all() as Array<{ data: string }>;
    db.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.data).not.toContain('carol@example.com');
    expect(rows[0]?.data).toContain('ncpii:');
  });

  it('writes concurrent appends to many streams in one group commit, each with its own outcome', async () => {
    const path = join(dir, 'group.db');
    const store = createSqliteEventStore({ path, codec: codec() });
    const db = new Database(path, { readonly: true });
    const dataVersion = () => db.pragma('data_version', { simple: true }) as number;
    await store.append('cluster-seed', [{ type: 'ClusterJoined', data: { clusterId: 'seed', regionId: 'r' } }]);
    const before = dataVersion();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 128 }, (_, i) =>
        store.append(`cluster-g${i}`, [{ type: 'ClusterJoined', data: { clusterId: `g${i}`, regionId: 'r' } }], {
          expectedRevision: i % 4 === 0 ? 0 : 'no_stream', // every 4th expects a revision the new stream doesn't have
        }),
      ),
    );
    // data_version changes once per commit made by another connection: one group commit for all 128 appends.
    expect(dataVersion() - before).toBe(1);
    db.close();
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(96);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(32);
    const positions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.position] : []));
    expect(new Set(positions).size).toBe(96);
    expect(Math.max(...positions) - Math.min(...positions)).toBe(95);
    await store.close();
  });

  it('refuses calls after close with a retriable error', async () => {
    const store = createSqliteEventStore({ path: join(dir, 'closed.db'), codec: codec() });
    await store.close();
    await expect(store.headPosition()).rejects.toMatchObject({ code: 'NC_STORE_CLOSED', retriable: true });
  });

  it('validates its options', () => {
    expect(() => createSqliteEventStore({ path: '', codec: codec() })).toThrow(/path/);
    expect(() => createSqliteEventStore({ path: join(dir, 'x.db'), codec: codec(), sync: 'off' as 'full' })).toThrow(/sync/);
  });
});
