/**
 * The contract every EventStore adapter must pass. Call it from an adapter's
 * test file with a harness that opens a store; tests use fresh stream ids and
 * positions relative to the head, so a shared server (EventStoreDB) works too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher, REDACTED, type KeyStore } from '../../crypto/index.ts';
import { isNovaCronError } from '../../errors/index.ts';
import { createAggregateCache, loadAggregate, rememberAppended } from '../aggregate.ts';
import { WrongExpectedRevisionError } from '../errors.ts';
import { newEventId } from '../new-event.ts';
import type { EventCodec, EventStore, ExpectedRevision, NewEvent, RecordedEvent } from '../port.ts';
import { clusterHealth, regionAdded, sameEvents, tenantCreated, uniqueStream } from './fixtures.ts';

/**
 * What an adapter's engine can promise beyond the port's common ground. Each
 * defaults to true (the SQLite store); an adapter that cannot meet one says
 * so, and the suite checks the weaker promise instead.
 */
export interface ContractCapabilities {
  /**
   * Positions are 1, 2, 3… without gaps. EventStoreDB's are log offsets:
   * strictly increasing, with gaps (record sizes, system records).
   */
  gaplessPositions?: boolean;
  /**
   * Event ids are unique across the whole store, so ids already stored in one
   * stream are refused in another. EventStoreDB has no global index of event
   * ids: it only recognises them within a stream.
   */
  uniqueEventIdsAcrossStreams?: boolean;
}

export interface ContractHarness {
  /** Opens the adapter under test with this codec. */
  open(codec: EventCodec): Promise<EventStore>;
  /** Called once after the suite. */
  cleanup?(): Promise<void>;
  capabilities?: ContractCapabilities;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a rejection with ${code}`).toBeDefined();
  expect(isNovaCronError(error) ? error.code : error).toBe(code);
  return error;
}

async function collect(subscription: AsyncIterable<RecordedEvent>, until: (seen: RecordedEvent[]) => boolean): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  for await (const event of subscription) {
    seen.push(event);
    if (until(seen)) break;
  }
  return seen;
}

export function eventStoreContract(adapter: string, harness: ContractHarness): void {
  const { gaplessPositions = true, uniqueEventIdsAcrossStreams = true } = harness.capabilities ?? {};
  describe(`EventStore contract: ${adapter}`, () => {
    let store: EventStore;
    let keys: KeyStore;

    beforeAll(async () => {
      keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
      const codec = createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) });
      store = await harness.open(codec);
    });

    afterAll(async () => {
      await store?.close();
      keys?.close();
      await harness.cleanup?.();
    });

    describe('append and read a stream', () => {
      it('appends to a new stream and reads it back with metadata', async () => {
        const stream = uniqueStream('cluster');
        const events = [clusterHealth('c1', true), clusterHealth('c1', false)];
        const head = await store.headPosition();
        const result = await store.append(stream, events, { expectedRevision: 'no_stream' });
        expect(result.revision).toBe(1);
        expect(result.position).toBeGreaterThan(head);

        const read = await store.readStream(stream);
        expect(read.map((e) => e.revision)).toEqual([0, 1]);
        expect(read.map((e) => e.data.healthy)).toEqual([true, false]);
        expect(read[1]?.position).toBe(result.position);
        expect(read[0]?.metadata.eventId).toBe(events[0]?.metadata?.eventId);
        expect(read[0]?.metadata).toMatchObject({ actor: 'system:test', causationId: null, schemaVersion: 1 });
        expect(read[0]?.metadata.correlationId).toBe(read[0]?.metadata.eventId);
        expect(Date.parse(read[0]?.metadata.occurredAt ?? '')).not.toBeNaN();
        expect(read[0]?.streamId).toBe(stream);
      });

      it('reads forwards and backwards from a revision with a limit', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, Array.from({ length: 10 }, (_, i) => clusterHealth(`c${i}`, i % 2 === 0)));
        const forwards = await store.readStream(stream, { fromRevision: 3, maxCount: 4 });
        expect(forwards.map((e) => e.revision)).toEqual([3, 4, 5, 6]);
        const backwards = await store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 3 });
        expect(backwards.map((e) => e.revision)).toEqual([9, 8, 7]);
        const backFrom = await store.readStream(stream, { direction: 'backwards', fromRevision: 2 });
        expect(backFrom.map((e) => e.revision)).toEqual([2, 1, 0]);
        expect(await store.readStream(uniqueStream('cluster'))).toEqual([]);
      });

      it('answers the stream state', async () => {
        const stream = uniqueStream('cluster');
        expect(await store.streamState(stream)).toEqual({ status: 'none', lastRevision: -1 });
        await store.append(stream, [clusterHealth('c', true)]);
        expect(await store.streamState(stream)).toEqual({ status: 'live', lastRevision: 0 });
      });
    });

    describe('expected revision', () => {
      const cases: Array<{ name: string; setup: number; expected: ExpectedRevision; ok: boolean; actual: number | 'no_stream' }> = [
        { name: 'no_stream on a new stream', setup: 0, expected: 'no_stream', ok: true, actual: 'no_stream' },
        { name: 'no_stream on an existing stream', setup: 2, expected: 'no_stream', ok: false, actual: 1 },
        { name: 'exists on a new stream', setup: 0, expected: 'exists', ok: false, actual: 'no_stream' },
        { name: 'exists on an existing stream', setup: 1, expected: 'exists', ok: true, actual: 0 },
        { name: 'any on a new stream', setup: 0, expected: 'any', ok: true, actual: 'no_stream' },
        { name: 'any on an existing stream', setup: 3, expected: 'any', ok: true, actual: 2 },
        { name: 'the right revision', setup: 3, expected: 2, ok: true, actual: 2 },
        { name: 'a stale revision', setup: 3, expected: 1, ok: false, actual: 2 },
        { name: 'a revision on a new stream', setup: 0, expected: 0, ok: false, actual: 'no_stream' },
      ];
      for (const c of cases) {
        it(`${c.ok ? 'accepts' : 'rejects'} ${c.name}`, async () => {
          const stream = uniqueStream('cluster');
          if (c.setup > 0) await store.append(stream, Array.from({ length: c.setup }, () => clusterHealth('c', true)));
          const attempt = store.append(stream, [clusterHealth('c', false)], { expectedRevision: c.expected });
          if (c.ok) {
            expect((await attempt).revision).toBe(c.setup);
          } else {
            const error = await expectCode(attempt, 'NC_REVISION_CONFLICT');
            expect(error).toBeInstanceOf(WrongExpectedRevisionError);
            expect((error as WrongExpectedRevisionError).actualRevision).toBe(c.actual);
            expect((await store.readStream(stream)).length).toBe(c.setup);
          }
        });
      }

      it('50 concurrent appenders on one stream: exactly one wins each revision, no gaps', async () => {
        const stream = uniqueStream('cluster');
        const rounds = 8;
        const headBefore = await store.headPosition();
        for (let round = 0; round < rounds; round++) {
          const expected: ExpectedRevision = round === 0 ? 'no_stream' : round - 1;
          const outcomes = await Promise.allSettled(
            Array.from({ length: 50 }, (_, i) => store.append(stream, [clusterHealth(`a${i}`, true)], { expectedRevision: expected })),
          );
          const wins = outcomes.filter((o) => o.status === 'fulfilled');
          expect(wins).toHaveLength(1);
          for (const o of outcomes) {
            if (o.status === 'rejected') expect((o.reason as WrongExpectedRevisionError).actualRevision).toBe(round);
          }
        }
        const events = await store.readStream(stream);
        expect(events.map((e) => e.revision)).toEqual(Array.from({ length: rounds }, (_, i) => i));
        const positions = events.map((e) => e.position);
        expect(positions.every((p, i) => i === 0 || p > (positions[i - 1] as number))).toBe(true);
        expect(positions[0]).toBeGreaterThan(headBefore);
      });

      it('50 appenders retrying on conflict each get in exactly once, revisions and positions without gaps', async () => {
        const stream = uniqueStream('cluster');
        const otherWrites = uniqueStream('cluster');
        const appender = async (i: number): Promise<number> => {
          const event = clusterHealth(`r${i}`, true);
          for (let attempt = 0; ; attempt++) {
            const state = await store.streamState(stream);
            try {
              const expectedRevision: ExpectedRevision = state.lastRevision < 0 ? 'no_stream' : state.lastRevision;
              return (await store.append(stream, [event], { expectedRevision })).revision;
            } catch (error) {
              if (!(error instanceof WrongExpectedRevisionError) || attempt > 500) throw error;
            }
          }
        };
        const headBefore = await store.headPosition();
        const revisions = await Promise.all(Array.from({ length: 50 }, (_, i) => appender(i)));
        expect([...revisions].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        await store.append(otherWrites, [clusterHealth('x', true)]);
        const events = await store.readStream(stream);
        expect(events).toHaveLength(50);
        expect(new Set(events.map((e) => e.data.clusterId)).size).toBe(50);
        const all = await store.readAll({ fromPosition: headBefore + 1, maxCount: 1000 });
        const ours = all.filter((e) => e.streamId === stream || e.streamId === otherWrites);
        if (gaplessPositions) {
          // No gap in the global log either: every position after the head belongs to one of our events.
          expect(ours.map((e) => e.position)).toEqual(Array.from({ length: 51 }, (_, i) => headBefore + 1 + i));
        } else {
          // Every event once, after the head, in strictly increasing positions.
          expect(ours).toHaveLength(51);
          expect(ours.every((e, i) => e.position > (i === 0 ? headBefore : (ours[i - 1] as RecordedEvent).position))).toBe(true);
        }
      });
    });

    describe('idempotent retries', () => {
      for (const kind of ['no_stream', 'exists', 'any', 'number'] as const) {
        it(`appending the same event ids again with expected revision ${kind} returns the first result and stores nothing`, async () => {
          const stream = uniqueStream('cluster');
          if (kind !== 'no_stream') await store.append(stream, [clusterHealth('seed', true)]);
          const expectedRevision: ExpectedRevision = kind === 'number' ? 0 : kind;
          const events = [clusterHealth('c', true), clusterHealth('c', false)];
          const first = await store.append(stream, events, { expectedRevision });
          const retried = await store.append(stream, sameEvents(events), { expectedRevision });
          expect(retried).toEqual(first);
          // Also when the retry carries a fresher expectation (the client read the stream after the first try).
          expect(await store.append(stream, sameEvents(events), { expectedRevision: 'any' })).toEqual(first);
          expect((await store.readStream(stream)).length).toBe(kind === 'no_stream' ? 2 : 3);
        });
      }

      it('two identical appends in flight at once store the events once', async () => {
        const stream = uniqueStream('cluster');
        const events = [clusterHealth('c', true)];
        const [a, b] = await Promise.all([
          store.append(stream, events, { expectedRevision: 'no_stream' }),
          store.append(stream, sameEvents(events), { expectedRevision: 'no_stream' }),
        ]);
        expect(a).toEqual(b);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('rejects stored event ids sent to another stream or in another order', async () => {
        const stream = uniqueStream('cluster');
        const events = [clusterHealth('c', true), clusterHealth('c', false)];
        await store.append(stream, events);
        if (uniqueEventIdsAcrossStreams) await expectCode(store.append(uniqueStream('cluster'), sameEvents(events)), 'NC_IDEMPOTENCY_MISMATCH');
        await expectCode(store.append(stream, sameEvents(events).reverse()), 'NC_IDEMPOTENCY_MISMATCH');
        await expectCode(store.append(stream, [clusterHealth('new', true), ...sameEvents(events)]), 'NC_IDEMPOTENCY_MISMATCH');
        expect(await store.readStream(stream)).toHaveLength(2);
      });
    });

    describe('reading the global log', () => {
      it('reads all from a position, forwards and backwards, filtered by category and event type', async () => {
        const category = `c${randomBytes(4).toString('hex').replace(/^[0-9]/, 'x')}`;
        const head = await store.headPosition();
        const s1 = `${category}-one`;
        const s2 = `${category}-two`;
        await store.append(s1, [clusterHealth('a', true), regionAdded('r1')]);
        await store.append(uniqueStream('cluster'), [clusterHealth('other', true)]);
        await store.append(s2, [clusterHealth('b', true)]);

        const fromHead = await store.readAll({ fromPosition: head + 1 });
        expect(fromHead.length).toBeGreaterThanOrEqual(4);
        expect(fromHead.map((e) => e.position)).toEqual([...fromHead.map((e) => e.position)].sort((a, b) => a - b));

        const byCategory = await store.readAll({ fromPosition: head + 1, filter: { categories: [category] } });
        expect(byCategory.map((e) => `${e.streamId}@${e.revision}`)).toEqual([`${s1}@0`, `${s1}@1`, `${s2}@0`]);

        const byType = await store.readAll({ fromPosition: head + 1, filter: { categories: [category], eventTypes: ['RegionAdded'] } });
        expect(byType.map((e) => e.type)).toEqual(['RegionAdded']);

        const backwards = await store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 2, filter: { categories: [category] } });
        expect(backwards.map((e) => `${e.streamId}@${e.revision}`)).toEqual([`${s2}@0`, `${s1}@1`]);

        const limited = await store.readAll({ fromPosition: head + 1, maxCount: 2 });
        expect(limited).toHaveLength(2);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(head + 4);
      });
    });

    describe('catch-up subscription', () => {
      it('started mid-write, sees every event exactly once and in order, then live ones', async () => {
        const category = `s${randomBytes(4).toString('hex')}`;
        const total = 1500;
        const head = await store.headPosition();
        let written = 0;
        const writer = (async () => {
          for (let i = 0; i < total; i += 10) {
            await Promise.all(
              Array.from({ length: 10 }, (_, j) => store.append(`${category}-${(i + j) % 7}`, [clusterHealth(`e${i + j}`, true)])),
            );
            written += 10;
          }
        })();
        await vi.waitFor(() => expect(written).toBeGreaterThanOrEqual(300), { timeout: 20_000, interval: 5 });
        const subscription = store.subscribeToAll({ afterPosition: head, filter: { categories: [category] }, batchSize: 50 });
        const seen = await collect(subscription, (s) => s.length >= total);
        await writer;
        await subscription.stop();
        const ids = seen.map((e) => e.data.clusterId);
        expect(new Set(ids).size).toBe(total);
        expect(ids.sort()).toEqual(Array.from({ length: total }, (_, i) => `e${i}`).sort());
        const positions = seen.map((e) => e.position);
        expect(positions.every((p, i) => i === 0 || p > (positions[i - 1] as number))).toBe(true);
      });

      it('hands over to live events and stops cleanly', async () => {
        const stream = uniqueStream('cluster');
        const head = await store.headPosition();
        const subscription = store.subscribeToAll({ afterPosition: head, filter: { categories: ['cluster'] } });
        const received = collect(subscription, (s) => s.some((e) => e.streamId === stream && e.revision === 2));
        for (let i = 0; i < 3; i++) await store.append(stream, [clusterHealth('live', true)]);
        const seen = (await received).filter((e) => e.streamId === stream);
        expect(seen.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(subscription.position).toBeGreaterThan(head);
        await subscription.stop();

        const idle = store.subscribeToAll({ afterPosition: await store.headPosition() });
        const pending = collect(idle, () => true);
        await idle.stop();
        expect(await pending).toEqual([]);
      });

      it('applies back-pressure: a slow consumer holds at most one page', async () => {
        const category = `b${randomBytes(4).toString('hex')}`;
        const head = await store.headPosition();
        for (let i = 0; i < 20; i++) {
          await store.append(`${category}-1`, Array.from({ length: 50 }, () => clusterHealth('bp', true)));
        }
        const subscription = store.subscribeToAll({ afterPosition: head, filter: { categories: [category] }, batchSize: 32 });
        let maxBuffered = 0;
        let count = 0;
        for await (const _event of subscription) {
          maxBuffered = Math.max(maxBuffered, subscription.buffered);
          count += 1;
          if (count % 100 === 0) await new Promise((resolve) => setImmediate(resolve)); // a consumer slower than the log
          if (count === 1000) break;
        }
        await subscription.stop();
        expect(count).toBe(1000);
        expect(maxBuffered).toBeLessThan(32);
      });
    });

    describe('stream metadata and deletion', () => {
      it('maxCount keeps only the last events in stream reads', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, Array.from({ length: 6 }, () => clusterHealth('m', true)));
        await store.setStreamMetadata(stream, { maxCount: 2 });
        expect(await store.getStreamMetadata(stream)).toEqual({ maxCount: 2 });
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([4, 5]);
        await store.append(stream, [clusterHealth('m', true)], { expectedRevision: 5 });
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([5, 6]);
      });

      it('truncateBefore hides earlier revisions', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, Array.from({ length: 5 }, () => clusterHealth('t', true)));
        await store.setStreamMetadata(stream, { truncateBefore: 3 });
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([3, 4]);
        expect((await store.readStream(stream, { direction: 'backwards', fromRevision: 'end' })).map((e) => e.revision)).toEqual([4, 3]);
      });

      it('maxAge hides events once they are older than it', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('old', true)]);
        await store.setStreamMetadata(stream, { maxAge: 1 });
        // The condition awaited is time itself passing maxAge.
        await vi.waitFor(async () => expect(await store.readStream(stream)).toEqual([]), { timeout: 5_000, interval: 100 });
        await store.append(stream, [clusterHealth('new', true)]);
        expect((await store.readStream(stream)).map((e) => e.data.clusterId)).toEqual(['new']);
      });

      it('rejects malformed stream metadata', async () => {
        await expectCode(store.setStreamMetadata(uniqueStream('cluster'), { maxCount: -1 }), 'NC_VALIDATION');
      });

      it('soft delete: the stream reads as absent, can be recreated and continues its revisions', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('a', true), clusterHealth('b', true)]);
        await store.deleteStream(stream, { expectedRevision: 1 });
        expect(await store.readStream(stream)).toEqual([]);
        expect(await store.streamState(stream)).toEqual({ status: 'soft_deleted', lastRevision: 1 });
        const recreated = await store.append(stream, [clusterHealth('c', true)], { expectedRevision: 'no_stream' });
        expect(recreated.revision).toBe(2);
        const events = await store.readStream(stream);
        expect(events.map((e) => [e.revision, e.data.clusterId])).toEqual([[2, 'c']]);
      });

      it('soft delete checks its expected revision', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('a', true)]);
        await expectCode(store.deleteStream(stream, { expectedRevision: 5 }), 'NC_REVISION_CONFLICT');
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('tombstone: the stream can never be written or read again', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('a', true)]);
        await store.tombstoneStream(stream);
        await expectCode(store.append(stream, [clusterHealth('b', true)]), 'NC_STREAM_DELETED');
        await expectCode(store.append(stream, [clusterHealth('b', true)], { expectedRevision: 'no_stream' }), 'NC_STREAM_DELETED');
        await expectCode(store.readStream(stream), 'NC_STREAM_DELETED');
        await expectCode(store.deleteStream(stream), 'NC_STREAM_DELETED');
        expect((await store.streamState(stream)).status).toBe('tombstoned');
      });

      // EventStoreDB's rules for deleted streams (its soft_deleted_stream_* and hard-delete tests).
      it('setting metadata on a soft-deleted stream undeletes it, keeping the deleted events truncated', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('a', true), clusterHealth('b', true)]);
        await store.deleteStream(stream);
        await store.setStreamMetadata(stream, { maxCount: 10 });
        expect(await store.streamState(stream)).toEqual({ status: 'live', lastRevision: 1 });
        expect(await store.getStreamMetadata(stream)).toEqual({ maxCount: 10, truncateBefore: 2 });
        expect(await store.readStream(stream)).toEqual([]);
        const appended = await store.append(stream, [clusterHealth('c', true)]);
        expect(appended.revision).toBe(2);
        expect((await store.readStream(stream)).map((e) => [e.revision, e.data.clusterId])).toEqual([[2, 'c']]);
        expect((await store.readStream(stream, { direction: 'backwards', fromRevision: 'end' })).map((e) => e.revision)).toEqual([2]);
      });

      it('setting metadata on a soft-deleted stream keeps a later truncateBefore it is given', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('a', true), clusterHealth('b', true)]);
        await store.deleteStream(stream);
        await store.setStreamMetadata(stream, { truncateBefore: 0 });
        expect(await store.getStreamMetadata(stream)).toEqual({ truncateBefore: 2 });
        await store.append(stream, [clusterHealth('c', true), clusterHealth('d', true)]);
        await store.setStreamMetadata(stream, { truncateBefore: 3 });
        expect((await store.readStream(stream)).map((e) => e.data.clusterId)).toEqual(['d']);
      });

      it('after a soft delete, an append expecting the last revision the stream state reports is accepted', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('a', true), clusterHealth('b', true)]);
        await store.deleteStream(stream);
        const { lastRevision } = await store.streamState(stream);
        expect(lastRevision).toBe(1);
        await expectCode(store.append(stream, [clusterHealth('x', true)], { expectedRevision: 0 }), 'NC_REVISION_CONFLICT');
        const recreated = await store.append(stream, [clusterHealth('c', true)], { expectedRevision: lastRevision });
        expect(recreated.revision).toBe(2);
        expect((await store.readStream(stream)).map((e) => [e.revision, e.data.clusterId])).toEqual([[2, 'c']]);
        expect(await store.streamState(stream)).toEqual({ status: 'live', lastRevision: 2 });
      });

      it('after a tombstone, a retried append of events already stored answers StreamDeleted (the tombstone is checked first)', async () => {
        const stream = uniqueStream('cluster');
        const events = [clusterHealth('a', true), clusterHealth('b', true)];
        const first = await store.append(stream, events, { expectedRevision: 'no_stream' });
        expect(await store.append(stream, sameEvents(events), { expectedRevision: 'no_stream' })).toEqual(first);
        await store.tombstoneStream(stream);
        for (const expectedRevision of ['no_stream', 'any', 'exists', 1] as const) {
          await expectCode(store.append(stream, sameEvents(events), { expectedRevision }), 'NC_STREAM_DELETED');
        }
        await expectCode(store.append(stream, sameEvents(events.slice(0, 1))), 'NC_STREAM_DELETED');
      });
    });

    describe('snapshots', () => {
      interface Count {
        n: number;
        healthy: number;
      }
      const aggregate = {
        initialState: (): Count => ({ n: 0, healthy: 0 }),
        evolve: (s: Count, e: RecordedEvent): Count => ({ n: s.n + 1, healthy: s.healthy + (e.data.healthy ? 1 : 0) }),
        snapshot: { version: 1, every: 50 },
      };

      it('an aggregate with a long stream loads from its latest snapshot plus the tail', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, Array.from({ length: 120 }, (_, i) => clusterHealth('s', i % 3 === 0)));
        const first = await loadAggregate(store, stream, aggregate);
        expect(first).toMatchObject({ state: { n: 120, healthy: 40 }, revision: 119, snapshotRevision: null, eventsRead: 120 });

        await store.append(stream, Array.from({ length: 5 }, () => clusterHealth('s', true)));
        const second = await loadAggregate(store, stream, aggregate);
        expect(second).toMatchObject({ state: { n: 125, healthy: 45 }, revision: 124, snapshotRevision: 119, eventsRead: 5 });

        const otherShape = await loadAggregate(store, stream, { ...aggregate, snapshot: { version: 2, every: 1000 } });
        expect(otherShape).toMatchObject({ state: { n: 125, healthy: 45 }, snapshotRevision: null, eventsRead: 125 });
      });

      it('deleting a stream drops its snapshot', async () => {
        const stream = uniqueStream('cluster');
        await store.append(stream, Array.from({ length: 60 }, () => clusterHealth('s', true)));
        await loadAggregate(store, stream, aggregate);
        expect(await store.readSnapshot(stream)).not.toBeNull();
        await store.deleteStream(stream);
        expect(await store.readSnapshot(stream)).toBeNull();
      });
    });

    describe('aggregate cache', () => {
      interface Count {
        n: number;
        healthy: number;
      }
      const counting = {
        initialState: (): Count => ({ n: 0, healthy: 0 }),
        evolve: (s: Count, e: RecordedEvent): Count => ({ n: s.n + 1, healthy: s.healthy + (e.data.healthy ? 1 : 0) }),
      };
      const fresh = (stream: string) => loadAggregate(store, stream, counting);

      it('a second load folds only what was written since, by anyone, and equals a fresh fold', async () => {
        const cache = createAggregateCache();
        const stream = uniqueStream('cluster');
        await store.append(stream, Array.from({ length: 30 }, (_, i) => clusterHealth('s', i % 2 === 0)));
        const first = await loadAggregate(store, stream, { ...counting, cache });
        expect(first).toMatchObject({ state: { n: 30, healthy: 15 }, revision: 29, eventsRead: 30, cached: false });

        const again = await loadAggregate(store, stream, { ...counting, cache });
        expect(again).toMatchObject({ state: first.state, revision: 29, eventsRead: 0, cached: true });

        await store.append(stream, [clusterHealth('s', true), clusterHealth('s', false)]); // another writer
        const later = await loadAggregate(store, stream, { ...counting, cache });
        expect(later).toMatchObject({ revision: 31, eventsRead: 2, cached: true });
        expect(later.state).toEqual((await fresh(stream)).state);
      });

      it('a load that hits the cache at the stream\'s last revision asks the store once', async () => {
        const cache = createAggregateCache();
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('s', true), clusterHealth('s', false)]);
        await loadAggregate(store, stream, { ...counting, cache });
        const calls: string[] = [];
        const watched = new Proxy(store, {
          get(target, name, receiver) {
            const value = Reflect.get(target, name, receiver) as unknown;
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              calls.push(String(name));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
        const again = await loadAggregate(watched, stream, { ...counting, cache });
        expect(again).toMatchObject({ state: { n: 2, healthy: 1 }, revision: 1, eventsRead: 0, cached: true });
        expect(calls).toEqual(['streamState']);
      });

      it('an append remembered after the command needs no read at the next load', async () => {
        const cache = createAggregateCache();
        const stream = uniqueStream('cluster');
        const loaded = await loadAggregate(store, stream, { ...counting, cache });
        const appended = await store.append(stream, [clusterHealth('s', true)], { expectedRevision: 'no_stream' });
        rememberAppended(cache, stream, counting, { n: loaded.state.n + 1, healthy: loaded.state.healthy + 1 }, appended.revision);
        const next = await loadAggregate(store, stream, { ...counting, cache });
        expect(next).toMatchObject({ state: { n: 1, healthy: 1 }, revision: 0, eventsRead: 0, cached: true });
      });

      it('keeps writing snapshots every N events when loads hit the cache', async () => {
        const cache = createAggregateCache();
        const stream = uniqueStream('cluster');
        const snapshotted = { ...counting, snapshot: { version: 1, every: 10 }, cache };
        for (let i = 0; i < 25; i++) {
          await loadAggregate(store, stream, snapshotted);
          await store.append(stream, [clusterHealth('s', true)]);
        }
        await loadAggregate(store, stream, snapshotted);
        expect((await store.readSnapshot<Count>(stream))?.revision).toBeGreaterThanOrEqual(19);
        const fromSnapshot = await loadAggregate(store, stream, { ...counting, snapshot: { version: 1, every: 10 } });
        expect(fromSnapshot.eventsRead).toBeLessThanOrEqual(10);
        expect(fromSnapshot.state).toEqual({ n: 25, healthy: 25 });
      });

      it('a deleted or tombstoned stream is not served from the cache', async () => {
        const cache = createAggregateCache();
        const deleted = uniqueStream('cluster');
        await store.append(deleted, [clusterHealth('s', true), clusterHealth('s', true)]);
        await loadAggregate(store, deleted, { ...counting, cache });
        await store.deleteStream(deleted);
        expect(await loadAggregate(store, deleted, { ...counting, cache })).toMatchObject({ state: { n: 0, healthy: 0 }, cached: false });

        const tombstoned = uniqueStream('cluster');
        await store.append(tombstoned, [clusterHealth('s', true)]);
        await loadAggregate(store, tombstoned, { ...counting, cache });
        await store.tombstoneStream(tombstoned);
        await expectCode(loadAggregate(store, tombstoned, { ...counting, cache }), 'NC_STREAM_DELETED');
      });

      it('a state cached for one aggregate is never handed to another on the same stream', async () => {
        const cache = createAggregateCache();
        const stream = uniqueStream('cluster');
        await store.append(stream, [clusterHealth('s', true), clusterHealth('s', false)]);
        await loadAggregate(store, stream, { ...counting, cache });
        const other = { initialState: (): string[] => [], evolve: (s: string[], e: RecordedEvent) => [...s, e.type], cache };
        expect(await loadAggregate(store, stream, other)).toMatchObject({ state: ['ClusterHealthReported', 'ClusterHealthReported'], cached: false });
      });
    });

    describe('bad input changes nothing', () => {
      const rejects: Array<[string, () => [string, NewEvent[]], string]> = [
        ['an event that does not match its schema', () => [uniqueStream('cluster'), [{ type: 'ClusterHealthReported', data: { clusterId: 'c', regionId: 'r', healthy: 'yes', detail: null } }]], 'NC_EVENT_INVALID'],
        ['an event missing a field', () => [uniqueStream('cluster'), [{ type: 'ClusterHealthReported', data: { clusterId: 'c', detail: null } }]], 'NC_EVENT_INVALID'],
        ['an event with an undeclared field', () => [uniqueStream('cluster'), [{ type: 'ClusterHealthReported', data: { clusterId: 'c', regionId: 'r', healthy: true, detail: null, extra: 1 } }]], 'NC_EVENT_INVALID'],
        ['an unknown event type', () => [uniqueStream('cluster'), [{ type: 'ClusterExploded', data: {} }]], 'NC_EVENT_TYPE_UNKNOWN'],
        ['a stream id with forbidden characters', () => ['cluster-has space', [clusterHealth('c', true)]], 'NC_STREAM_ID_INVALID'],
        ['a stream id with a slash', () => ['cluster-a/b', [clusterHealth('c', true)]], 'NC_STREAM_ID_INVALID'],
        ['a stream id without a category', () => ['nocategory', [clusterHealth('c', true)]], 'NC_STREAM_ID_INVALID'],
        ['a system stream id', () => ['$all', [clusterHealth('c', true)]], 'NC_STREAM_ID_INVALID'],
        ['an event over 1 MiB', () => [uniqueStream('cluster'), [{ ...clusterHealth('c', true), data: { clusterId: 'c', regionId: 'r', healthy: true, detail: 'x'.repeat(1024 * 1024 + 1) } }]], 'NC_EVENT_TOO_LARGE'],
        ['an event id that is not a UUIDv7', () => [uniqueStream('cluster'), [{ ...clusterHealth('c', true), metadata: { eventId: 'not-a-uuid' } }]], 'NC_VALIDATION'],
        ['the same event id twice in one append', () => {
          const e = clusterHealth('c', true);
          return [uniqueStream('cluster'), [e, sameEvents([e])[0] as NewEvent]];
        }, 'NC_VALIDATION'],
      ];
      for (const [name, make, code] of rejects) {
        it(`rejects ${name} with ${code} and appends nothing`, async () => {
          const [stream, events] = make();
          const head = await store.headPosition();
          // A valid event in the same append must not be stored either.
          await expectCode(store.append(stream, [clusterHealth('ok', true), ...events]), code);
          expect(await store.headPosition()).toBe(head);
        });
      }

      it('rejects a malformed expected revision', async () => {
        await expectCode(store.append(uniqueStream('cluster'), [clusterHealth('c', true)], { expectedRevision: -2 }), 'NC_VALIDATION');
      });
    });

    describe('crypto-shredding', () => {
      it('personal fields are encrypted at rest and read as redacted once the tenant key is destroyed', async () => {
        const [a, b] = [`t${newEventId()}`, `t${newEventId()}`];
        await store.append(`tenant-${a}`, [tenantCreated(a, 'alice@example.com')]);
        await store.append(`tenant-${b}`, [tenantCreated(b, 'bob@example.com')]);
        expect((await store.readStream(`tenant-${a}`))[0]?.data.contactEmail).toBe('alice@example.com');

        keys.destroyDataKey(a);
        const [shredded] = await store.readStream(`tenant-${a}`);
        expect(shredded?.data.contactEmail).toBe(REDACTED);
        expect(shredded?.data.name).toBe(`Tenant ${a}`);
        expect(shredded?.data.quota).toEqual({ vms: 10, vcpus: 40, memoryMiB: 81920, diskGiB: 1000 });
        expect((await store.readStream(`tenant-${b}`))[0]?.data.contactEmail).toBe('bob@example.com');
        const fromLog = await store.readAll({ fromPosition: shredded?.position ?? 0, maxCount: 1 });
        expect(fromLog[0]?.data.contactEmail).toBe(REDACTED);
      });

      it('refuses personal data without a tenant to encrypt it for', async () => {
        const event = tenantCreated('t', 'x@example.com');
        const head = await store.headPosition();
        await expectCode(store.append(uniqueStream('tenant'), [{ ...event, metadata: { ...event.metadata, tenantId: null } }]), 'NC_KEY_MISSING');
        expect(await store.headPosition()).toBe(head);
      });
    });
  });
}
