/**
 * npm run bench:projections — for one generated log of BENCH_EVENTS events
 * (default 1,000,000): replay events/s of each embedded projection (a full
 * rebuild through its processor, as `novacron replay` does) beside the raw
 * SQLite scan rate of the same log (every row read, data parsed); then shard
 * lookups/s and route decisions/s (bench/shard-lookup.ts, bench/route-decisions.ts).
 * The last line printed is a JSON object of the figures.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { embeddedProjections } from '../projections/index.ts';
import { createEventCodec, defaultCatalog } from '../streams/catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../streams/crypto/index.ts';
import { createSqliteEventStore } from '../streams/eventstore/sqlite/store.ts';
import { createProjectionHost } from '../streams/processing/host.ts';
import { writeFleetLog } from './fleet-log.ts';

const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'novacron-bench-projections-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);
const lastJson = (script: string): Record<string, unknown> => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))], {
    env: { ...process.env, BENCH_SECONDS: process.env.BENCH_SECONDS ?? '2' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) as string);
};

try {
  const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
  const store = createSqliteEventStore({
    path: join(dir, 'events.db'),
    codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }),
    sync: 'normal',
  });
  let started = performance.now();
  const written = await writeFleetLog(store, {
    events,
    onProgress: (n) => {
      if (process.stderr.isTTY) process.stderr.write(`\rwriting the log: ${n}/${events}`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(`log: ${written.toLocaleString('en-US')} events written in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const raw = new Database(join(dir, 'events.db'), { readonly: true });
  started = performance.now();
  let rows = 0;
  let bytes = 0;
  for (const row of raw.prepare('SELECT position, stream_id, revision, type, data, metadata FROM events ORDER BY position').iterate() as Iterable<{ data: string; metadata: string }>) {
    bytes += (JSON.parse(row.data) as object) ? row.data.length : 0;
    JSON.parse(row.metadata);
    rows += 1;
  }
  const rawScanRowsPerSec = rows / ((performance.now() - started) / 1000);
  raw.close();
  console.log(`raw SQLite scan (rows read, data and metadata parsed) : ${fmt(rawScanRowsPerSec)} rows/s (${(bytes / 1e6).toFixed(0)} MB of data)`);

  const figures: Record<string, number> = { events: written, rawScanRowsPerSec: Math.round(rawScanRowsPerSec) };
  for (const projection of embeddedProjections) {
    // The host's default batch size: what `novacron replay` uses.
    const host = createProjectionHost({ dir: join(dir, `p-${projection.name}`), source: store, projections: [projection], sync: 'normal' });
    const result = await host.replay(projection.name);
    await host.stop();
    const rate = result.events / result.seconds;
    const key = `${projection.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}EventsPerSec`;
    figures[key] = Math.round(rate);
    console.log(`replay ${projection.name.padEnd(20)} : ${fmt(rate)} events/s  (${((rate / rawScanRowsPerSec) * 100).toFixed(0)}% of the raw scan)`);
  }
  await store.close();
  keys.close();

  const shards = lastJson('./shard-lookup.ts');
  const routes = lastJson('./route-decisions.ts');
  figures.shardLookupsPerSec = shards.lookupsPerSec as number;
  // The slowest strategy (hybrid with a full latency matrix) is the figure held to the goal.
  figures.routeDecisionsPerSec = routes.minDecisionsPerSec as number;
  console.log(`shard lookups                               : ${fmt(figures.shardLookupsPerSec)} /s`);
  console.log(`route decisions                             : ${fmt(figures.routeDecisionsPerSec ?? 0)} /s`);
  console.log(JSON.stringify(figures));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
