/**
 * npm run bench:append — appends/s of the embedded SQLite event store at 1, 16
 * and 128 concurrent appenders (one ~300-byte event per append, durable
 * synchronous=FULL group commits), beside raw better-sqlite3 inserting the same
 * rows into the same table in transactions of 128 with synchronous=FULL, in
 * the same run. The last line printed is a JSON object of the figures.
 *
 * Options (environment): BENCH_SECONDS (per level, default 4).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createEventCodec, defaultCatalog } from '../streams/catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../streams/crypto/index.ts';
import { newEventId } from '../streams/eventstore/index.ts';
import { migrate } from '../streams/eventstore/sqlite/schema.ts';
import { createSqliteEventStore } from '../streams/eventstore/sqlite/store.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const dir = mkdtempSync(join(tmpdir(), 'novacron-bench-append-'));

/** About 300 bytes of event data as stored JSON. */
const payload = (i: number) => ({
  clusterId: `cluster-${i % 1000}`,
  regionId: 'eu-west-1',
  healthy: i % 7 !== 0,
  detail: `probe ok: api=200 etcd=ok kubelet=ok latency_ms=${i % 97} ${'x'.repeat(190)}`,
});
const sampleJson = JSON.stringify(payload(1));

function rawInsertRate(): number {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  migrate(db);
  const insert = db.prepare(
    'INSERT INTO events (stream_id, revision, category, type, event_id, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const revisions = new Map<string, number>();
  const batch = db.transaction((from: number) => {
    for (let i = from; i < from + 128; i++) {
      const stream = `cluster-raw${i % 128}`;
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      const eventId = newEventId();
      const metadata = JSON.stringify({ eventId, tenantId: null, correlationId: eventId, causationId: null, actor: 'system:bench', occurredAt: new Date().toISOString(), schemaVersion: 1 });
      insert.run(stream, revision, 'cluster', 'ClusterHealthReported', eventId, JSON.stringify(payload(i)), metadata, Date.now());
    }
  });
  let rows = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    batch(rows);
    rows += 128;
  }
  const rate = rows / ((performance.now() - start) / 1000);
  db.close();
  return rate;
}

async function storeAppendRate(concurrency: number): Promise<{ rate: number; errors: number; lost: number }> {
  const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
  const store = createSqliteEventStore({
    path: join(dir, `store-${concurrency}.db`),
    codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }),
  });
  let acknowledged = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const stream = `cluster-bench${worker}`;
      for (let revision = 0; performance.now() < deadline; revision++) {
        try {
          await store.append(stream, [{ type: 'ClusterHealthReported', data: payload(revision), metadata: { actor: 'system:bench' } }], {
            expectedRevision: revision === 0 ? 'no_stream' : revision - 1,
          });
          acknowledged += 1;
        } catch (error) {
          errors += 1;
          console.error(error);
          return;
        }
      }
    }),
  );
  const rate = acknowledged / ((performance.now() - start) / 1000);
  const stored = (await store.headPosition());
  await store.close();
  keys.close();
  return { rate, errors, lost: acknowledged - stored };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
try {
  console.log(`event data: ${Buffer.byteLength(sampleJson)} bytes; ${seconds}s per level; synchronous=FULL, WAL`);
  const raw = rawInsertRate();
  console.log(`raw better-sqlite3, transactions of 128 rows : ${fmt(raw)} rows/s`);
  const results: Record<number, { rate: number; errors: number; lost: number }> = {};
  for (const concurrency of [1, 16, 128]) {
    const r = await storeAppendRate(concurrency);
    results[concurrency] = r;
    console.log(
      `event store, ${String(concurrency).padStart(3)} concurrent appender(s)   : ${fmt(r.rate)} appends/s  (${((r.rate / raw) * 100).toFixed(0)}% of raw; errors ${r.errors}, lost ${r.lost})`,
    );
  }
  const figures = {
    eventBytes: Buffer.byteLength(sampleJson),
    appendsPerSec1: Math.round(results[1]!.rate),
    appendsPerSec16: Math.round(results[16]!.rate),
    appendsPerSec128: Math.round(results[128]!.rate),
    rawRowsPerSec: Math.round(raw),
    ratio128: Number((results[128]!.rate / raw).toFixed(3)),
    errors: Object.values(results).reduce((n, r) => n + r.errors, 0),
    lost: Object.values(results).reduce((n, r) => n + r.lost, 0),
  };
  console.log(JSON.stringify(figures));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
