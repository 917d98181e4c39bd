import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import { NovaCronError } from '../../errors/index.ts';
import { StreamDeletedError, WrongExpectedRevisionError } from '../errors.ts';
import { newEventId } from '../new-event.ts';
import { createSqliteEventStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'novacron-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const codec = () =>
  createEventCodec({
    catalog: defaultCatalog(),
    cipher: createPersonalDataCipher(createKeyStore({ path: ':memory:', masterKey: randomBytes(32) })),
  });

const health = (stream: string, i: number) => ({
  type: 'ClusterHealthReported',
  data: { clusterId: stream, regionId: 'r', healthy: i % 2 === 0, detail: `probe ${i} ${'x'.repeat(500)}` },
});

/**
 * Rounds of 200 concurrent appends (4 events of ~0.6 KB each) with synchronous=FULL:
 * the longest gap between ticks of a 1 ms interval while each round's batch is being
 * committed, and the longest transaction of a batch.
 */
async function measure(writer: 'worker' | 'loop', rounds = 5) {
  const commits: number[] = [];
  const store = createSqliteEventStore({
    path: join(dir, `gap-${writer}.db`),
    codec: codec(),
    sync: 'full',
    writer,
    onGroupCommit: ({ transactionMs }) => commits.push(transactionMs),
  });
  await store.append('cluster-warm', [health('warm', 0)]);
  let maxGap = 0;
  for (let round = 0; round < rounds; round++) {
    const appends = Array.from({ length: 200 }, (_, s) =>
      store.append(`cluster-s${s}`, Array.from({ length: 4 }, (_, i) => health(`s${s}`, round * 4 + i))),
    );
    // The events are encoded above, on the loop; from here on only the commit is pending.
    let last = performance.now();
    const tick = () => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    };
    const timer = setInterval(tick, 1);
    await Promise.all(appends);
    tick();
    clearInterval(timer);
  }
  await store.close();
  return { maxGap, maxCommit: Math.max(...commits.slice(1)) }; // the warm-up commit aside
}

describe('SQLite event store writer', () => {
  it('commits in a worker thread: the event loop keeps ticking while a batch is written and fsynced', async () => {
    // The measurement sees blocking: on the loop writer a tick waits out the whole transaction.
    const onLoop = await measure('loop');
    expect(onLoop.maxGap).toBeGreaterThanOrEqual(onLoop.maxCommit);
    const inWorker = await measure('worker');
    expect(inWorker.maxCommit).toBeGreaterThan(5); // 800 rows and an fsync: there is something to wait for
    // Off the loop, a tick waits for the batch to be posted and its answers handed out, not for the transaction.
    expect(inWorker.maxGap).toBeLessThan(inWorker.maxCommit / 2);
  });

  it("hands back the worker's errors as the same classes, codes and details", async () => {
    const store = createSqliteEventStore({ path: join(dir, 'errors.db'), codec: codec() });
    try {
      const eventId = newEventId();
      await store.append('cluster-e', [{ ...health('e', 0), metadata: { eventId } }]);
      const conflict = await store.append('cluster-e', [health('e', 1)], { expectedRevision: 'no_stream' }).catch((error: unknown) => error);
      expect(conflict).toBeInstanceOf(WrongExpectedRevisionError);
      expect(conflict).toMatchObject({ code: 'NC_REVISION_CONFLICT', streamId: 'cluster-e', expectedRevision: 'no_stream', actualRevision: 0 });
      const mismatch = await store.append('cluster-f', [{ ...health('f', 0), metadata: { eventId } }]).catch((error: unknown) => error);
      expect(mismatch).toBeInstanceOf(NovaCronError);
      expect(mismatch).toMatchObject({ code: 'NC_IDEMPOTENCY_MISMATCH', details: { streamId: 'cluster-f', eventId, storedIn: 'cluster-e' } });
      await store.tombstoneStream('cluster-e');
      const deleted = await store.append('cluster-e', [health('e', 2)]).catch((error: unknown) => error);
      expect(deleted).toBeInstanceOf(StreamDeletedError);
      expect(deleted).toMatchObject({ code: 'NC_STREAM_DELETED', streamId: 'cluster-e', details: { streamId: 'cluster-e' } });
    } finally {
      await store.close();
    }
  });

  it('rejects the pending operations of a crashed writer with a retriable NC_STORE_UNAVAILABLE, and the next one starts a new writer', async () => {
    const store = createSqliteEventStore({
      path: join(dir, 'crash.db'),
      codec: codec(),
      writerEntry: new URL('./crashing-writer.fixture.mjs', import.meta.url),
    });
    try {
      await store.append('cluster-a', [health('a', 0)]);
      const [crashed, alongside] = await Promise.allSettled([
        store.append('cluster-crash', [health('crash', 0)]),
        store.append('cluster-b', [health('b', 0)]),
      ]);
      for (const outcome of [crashed, alongside]) {
        expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'NC_STORE_UNAVAILABLE', retriable: true } });
      }
      expect(await store.append('cluster-b', [health('b', 1)])).toMatchObject({ revision: 0 });
      expect(await store.readStream('cluster-crash')).toEqual([]);
      expect((await store.readAll()).map((e) => e.streamId)).toEqual(['cluster-a', 'cluster-b']);
    } finally {
      await store.close();
    }
  });
});
