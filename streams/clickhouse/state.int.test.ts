// The ClickHouse client, literal helper and processor state store against a
// real server (NOVACRON_CLICKHOUSE_URL; 18.16 on our machines): each test in a
// database of its own, dropped afterwards.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NovaCronError } from '../errors/index.ts';
import type { RecordedEvent } from '../eventstore/index.ts';
import { FatalProcessorError } from '../processing/types.ts';
import { openClickHouse, type ClickHouse } from './client.ts';
import type { CompactionResult } from './compaction.ts';
import { sqlString, sqlStringList } from './escape.ts';
import { openClickHouseStateStore, type ClickHouseTable } from './state.ts';
import { clickhouseInfra, dropDatabase, uniqueDatabase, waitForStateMutations } from './testing.ts';

const infra = clickhouseInfra();

describe.runIf(infra.run)('ClickHouse client and state store', () => {
  let clickhouse: ClickHouse;
  let database: string;
  beforeEach(() => {
    clickhouse = openClickHouse({ url: infra.url() });
    database = uniqueDatabase('state');
  });
  afterEach(async () => {
    await clickhouse.close();
    await dropDatabase(infra.url(), database);
  });

  it('reads back every string the literal helper writes (quotes, backslashes, NUL, newlines, unicode)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: fc.oneof(fc.constantFrom("'", '\\', '\0', '\n', '\r', '\t', '\u0001', '\u007f', '"', '😀', 'é', '中'), fc.string({ unit: 'binary', maxLength: 3 })) }), { minLength: 1, maxLength: 20 }), async (values) => {
        const rows = await clickhouse.query<{ v: string; n: string }>(`SELECT arrayJoin([${values.map(sqlString).join(', ')}]) AS v, length(v) AS n`);
        expect(rows.map((r) => r.v)).toEqual(values);
        expect(rows.map((r) => Number(r.n))).toEqual(values.map((v) => Buffer.byteLength(v)));
      }),
      { numRuns: 100 },
    );
  });

  it('stores and finds the same string as a row and as a literal, lone surrogates included', async () => {
    await clickhouse.command(`CREATE DATABASE ${database}`);
    await clickhouse.command(`CREATE TABLE ${database}.t (k String) ENGINE = MergeTree ORDER BY k`);
    const keys = ['plain', "it's", 'a\\b', 'nul\0', 'line\nbreak', 'lone \ud800 surrogate', '😀'];
    await clickhouse.insert(database, 't', ['k'], keys.map((k) => ({ k })));
    const rows = await clickhouse.query<{ n: string }>(`SELECT count() AS n FROM ${database}.t WHERE k IN ${sqlStringList(keys)}`);
    expect(Number(rows[0]?.n)).toBe(keys.length);
  });

  it('reports failures as retriable NC_CLICKHOUSE_UNAVAILABLE, with the server code of 18.16-style exceptions', async () => {
    const error = await clickhouse.query(`SELECT * FROM ${database}.missing`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NovaCronError);
    expect(error).toMatchObject({ code: 'NC_CLICKHOUSE_UNAVAILABLE', retriable: true });
    expect((error as NovaCronError).details?.['serverCode']).toBeTypeOf('number');
    const down = openClickHouse({ url: 'http://127.0.0.1:1' });
    expect(await down.ping()).toBe(false);
    await expect(down.query('SELECT 1')).rejects.toMatchObject({ code: 'NC_CLICKHOUSE_UNAVAILABLE', retriable: true, details: { networkCode: 'ECONNREFUSED' } });
    await down.close();
  });

  const facts: ClickHouseTable = { name: 'facts', columns: ['k', 'v', 'version'] };
  const event = (position: number): RecordedEvent => ({
    streamId: 'cluster-c1',
    revision: position - 1,
    position,
    type: 'ClusterHealthReported',
    data: {},
    metadata: { eventId: `e${position}`, tenantId: null, correlationId: 'c', causationId: null, actor: 'test', occurredAt: '2026-01-01T00:00:00Z', schemaVersion: 1 },
    recordedAt: '2026-01-01T00:00:00Z',
  });

  function open(beforeCommit?: () => void) {
    return openClickHouseStateStore({
      clickhouse,
      database,
      processor: 'p',
      migrate: (ch, db) => ch.command(`CREATE TABLE IF NOT EXISTS ${db}.facts (k String, v UInt64, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY k`),
      ...(beforeCommit ? { beforeCommit } : {}),
    });
  }

  it('commits rows, state and then the checkpoint; state is read as of the checkpoint, so a crashed commit is invisible and its retry collapses', async () => {
    const store = open();
    await store.migrate();
    expect(await store.checkpoint()).toBe(0);
    await store.commit(3, async (w) => {
      expect(w.checkpoint).toBe(0);
      expect(await w.get(['a'])).toEqual(new Map());
      w.put('a', { n: 1 });
      w.write(facts, 'a', { k: 'a', v: 1, version: 3 });
    });
    expect(await store.checkpoint()).toBe(3);

    // A crash after the rows and state, before the checkpoint.
    let crash = true;
    const crashing = open(() => {
      if (crash) throw new Error('crash');
    });
    await expect(
      crashing.commit(5, async (w) => {
        expect(await w.get(['a'])).toEqual(new Map([['a', { n: 1 }]]));
        w.put('a', { n: 2 });
        w.put('b', { n: 9 });
        w.write(facts, 'a', { k: 'a', v: 2, version: 5 });
      }),
    ).rejects.toThrow('crash');
    const restarted = open();
    expect(await restarted.checkpoint()).toBe(3);
    crash = false;
    await restarted.commit(5, async (w) => {
      // As of 3: the crashed attempt's versions (at 5) are not seen.
      expect(await w.get(['a', 'b'])).toEqual(new Map([['a', { n: 1 }]]));
      w.put('a', { n: 2 });
      w.put('b', { n: 9 });
      w.write(facts, 'a', { k: 'a', v: 2, version: 5 });
    });
    await restarted.commit(6, async (w) => {
      expect(await w.get(['a', 'b'])).toEqual(new Map<string, unknown>([['a', { n: 2 }], ['b', { n: 9 }]]));
      w.put('b', undefined);
    });
    expect(await open().checkpoint()).toBe(6);
    await open().commit(7, async (w) => expect(await w.get(['a', 'b'])).toEqual(new Map([['a', { n: 2 }]])));
    expect(await clickhouse.query(`SELECT k, v FROM ${database}.facts FINAL`)).toEqual([{ k: 'a', v: '2' }]);
    await expect(store.commit(2, () => undefined)).rejects.toThrow(RangeError);
  });

  it('parks an event with its error and moves the checkpoint past it', async () => {
    const store = open();
    await store.migrate();
    await store.park(event(4), new TypeError('bad data'));
    await store.park(event(9), 'worse');
    expect(await store.checkpoint()).toBe(9);
    expect(await store.parkedCount()).toBe(2);
    const parked = await open().parked(10);
    expect(parked.map(({ parkedAt: _, ...p }) => p)).toEqual([
      { position: 4, streamId: 'cluster-c1', revision: 3, type: 'ClusterHealthReported', error: 'TypeError: bad data' },
      { position: 9, streamId: 'cluster-c1', revision: 8, type: 'ClusterHealthReported', error: 'worse' },
    ]);
  });

  it('compacts the state to the checkpoint: versions stay bounded, reads as of the checkpoint are unchanged, versions above it survive', async () => {
    const compactions: CompactionResult[] = [];
    const store = openClickHouseStateStore({ clickhouse, database, processor: 'p', compaction: { everyCommits: 5 }, onCompaction: (r) => compactions.push(r) });
    await store.migrate();
    const versions = async () => Number((await clickhouse.query<{ n: string }>(`SELECT count() AS n FROM ${database}.processor_state FINAL`))[0]?.n);
    // 200 commits of 12 versions each: k0…k8, k9 (deleted every 7th commit), once<n> (deleted by the next commit).
    const expected = new Map<string, unknown>();
    const samples: number[] = [];
    for (let n = 1; n <= 200; n++) {
      await store.commit(n, async (w) => {
        const got = await w.get([...expected.keys(), `once${n - 1}`]);
        expect(got).toEqual(expected);
        for (let k = 0; k < 9; k++) expected.set(`k${k}`, { n, k });
        if (n % 7 === 0) expected.delete('k9');
        else expected.set('k9', { n });
        expected.delete(`once${n - 1}`);
        expected.set(`once${n}`, n);
        for (const [key, value] of expected) w.put(key, value);
        w.put(`once${n - 1}`, undefined);
        if (n % 7 === 0) w.put('k9', undefined);
      });
      if (n % 10 === 0) samples.push(await versions());
    }
    // Without compaction: 200 × 12 = 2400 versions. With it: the state as of the last floor (≤ 13 versions) plus
    // the commits since (5 of 12), and those of the interval before while its mutation still runs.
    expect(Math.max(...samples)).toBeLessThanOrEqual(13 + 3 * 5 * 12);
    expect(compactions.filter((c) => c.compacted).length).toBeGreaterThanOrEqual(20);
    await store.close(); // waits for a compaction in flight
    await waitForStateMutations(clickhouse, database); // a compaction is skipped while the table's last mutation runs
    expect(await open().compact()).toEqual({ floor: 200, compacted: true });
    await waitForStateMutations(clickhouse, database);
    // k0…k9 and once200 as of 200, plus the deletion of once199 at 200.
    expect(await versions()).toBe(12);
    // A new store (its cache empty) reads the same state as of the checkpoint.
    await open().commit(201, async (w) => expect(await w.get([...expected.keys(), 'once199', 'absent'])).toEqual(expected));

    // A crashed commit's versions (above the checkpoint) survive compaction and stay invisible to the retry.
    let crash = true;
    const crashing = open(() => {
      if (crash) throw new Error('crash');
    });
    await expect(crashing.commit(205, (w) => w.put('k0', 'crashed'))).rejects.toThrow('crash');
    const restarted = open();
    expect(await restarted.compact()).toEqual({ floor: 201, compacted: true });
    await waitForStateMutations(clickhouse, database);
    expect(Number((await clickhouse.query<{ n: string }>(`SELECT count() AS n FROM ${database}.processor_state WHERE position = 205`))[0]?.n)).toBe(1);
    crash = false;
    await restarted.commit(203, async (w) => {
      expect((await w.get(['k0'])).get('k0')).toEqual({ n: 200, k: 0 });
      w.put('k1', 'retried');
    });
    // A store with an empty cache reads the same from ClickHouse, as of 203.
    await open().commit(204, async (w) => expect(await w.get(['k0', 'k1'])).toEqual(new Map<string, unknown>([['k0', { n: 200, k: 0 }], ['k1', 'retried']])));
  });

  it('a store whose checkpoint is below another instance’s compaction floor refuses to read state', async () => {
    const ahead = open();
    await ahead.migrate();
    const behind = open();
    await behind.commit(2, (w) => w.put('a', 1));
    await ahead.commit(4, async (w) => {
      expect(await w.get(['a'])).toEqual(new Map([['a', 1]]));
      w.put('a', 2);
    });
    expect(await ahead.compact()).toEqual({ floor: 4, compacted: true });
    // `behind` still believes the checkpoint is 2: the state as of 2 is gone.
    // What it remembers it may use (its own values); what it must read from ClickHouse it may not.
    await expect(behind.commit(3, (w) => w.get(['a', 'b']).then(() => undefined))).rejects.toThrow(FatalProcessorError);
  });
});
