// Command batching per stream, on the real embedded store: concurrent commands on
// one stream are decided together and appended in one or a few appends, each with
// its own outcome; a refusal refuses alone; a conflict with another writer (a second
// store handle on the same file) is retried and nothing is appended twice; a failed
// append (a crash between deciding and appending) records nothing.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { createPersonalDataCipher } from '../../streams/crypto/index.ts';
import { newEventId, type EventStore } from '../../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { openTempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { aggregates, streamOf } from '../fleet/aggregates.ts';
import { createCommandBatcher } from './batcher.ts';
import type { CommandContext } from './context.ts';

type Temp = ReturnType<typeof openTempEventStore>;
let t: Temp | undefined;
const others: EventStore[] = [];
afterEach(async () => {
  for (const store of others.splice(0)) await store.close();
  await t?.close();
  t = undefined;
});

const context = (): CommandContext => ({ actor: 'operator:test', correlationId: newEventId(), now: new Date() });
const stream = streamOf.tenant('acme');
const create = (vms: number) => ({
  type: 'CreateTenant' as const,
  data: { tenantId: 'acme', name: 'Acme', quota: { vms, vcpus: 10_000, memoryMiB: 10_000_000, diskGiB: 1_000_000 }, allowedRegions: ['eu-west'] },
  metadata: { now: new Date().toISOString() },
});
const reserve = (i: number) => ({
  type: 'ReserveQuota' as const,
  data: { tenantId: 'acme', reservationId: `r${i}`, vmId: `vm${i}`, resources: { vms: 1, vcpus: 1, memoryMiB: 512, diskGiB: 1 }, expiresAt: new Date(Date.now() + 60_000).toISOString(), regionId: null },
  metadata: { now: new Date().toISOString() },
});

describe('command batching per stream', () => {
  it('N concurrent commands on one stream: N outcomes, consecutive revisions, in a few appends', async () => {
    t = openTempEventStore('batcher', { sync: 'full' });
    const appends: number[] = [];
    const batcher = createCommandBatcher(t.store, { onAppend: (_s, commands) => appends.push(commands) });
    await batcher.run(stream, aggregates.tenant, create(1000), context());
    appends.length = 0;
    const n = 60;
    const outcomes = await Promise.all(Array.from({ length: n }, (_, i) => batcher.run(stream, aggregates.tenant, reserve(i), context())));
    // The first goes alone (nothing was waiting); the rest gather behind it.
    expect(appends.length).toBeLessThanOrEqual(3);
    expect(appends.reduce((a, b) => a + b, 0)).toBe(n);
    expect(outcomes.map((o) => o.revision)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (const [i, outcome] of outcomes.entries()) {
      expect(outcome.events.map((e) => e.type)).toEqual(['QuotaReserved']);
      expect(outcome.eventIds).toHaveLength(1);
      expect((outcome.state as { reservations: Record<string, unknown> }).reservations[`r${i}`]).toBeDefined();
    }
    const stored = await t.store.readStream(stream);
    expect(stored).toHaveLength(n + 1);
    expect(stored.slice(1).map((e) => e.metadata.eventId)).toEqual(outcomes.map((o) => o.eventIds[0]));
    // Each event keeps its own command's metadata.
    expect(new Set(stored.slice(1).map((e) => e.metadata.correlationId)).size).toBe(n);
  });

  it('a refused command in a batch refuses alone; the others go through', async () => {
    t = openTempEventStore('batcher', { sync: 'full' });
    const appends: number[] = [];
    const batcher = createCommandBatcher(t.store, { onAppend: (_s, commands) => appends.push(commands) });
    await batcher.run(stream, aggregates.tenant, create(10), context());
    appends.length = 0;
    // 25 reservations against a quota of 10 VMs, plus one invalid command in the middle.
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 12 }, (_, i) => batcher.run(stream, aggregates.tenant, reserve(i), context())),
      batcher.run(stream, aggregates.tenant, { type: 'NoSuchCommand' as 'CommitQuota', data: { tenantId: 'acme', reservationId: 'nope' }, metadata: { now: new Date().toISOString() } }, context()),
      ...Array.from({ length: 13 }, (_, i) => batcher.run(stream, aggregates.tenant, reserve(100 + i), context())),
    ]);
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [isNovaCronError(o.reason) ? o.reason.code : String(o.reason)] : []));
    expect(ok).toHaveLength(10);
    expect(refused.filter((c) => c === 'NC_QUOTA_EXCEEDED')).toHaveLength(15);
    expect(refused).toHaveLength(16); // and the invalid one, with its own error
    expect(appends.length).toBeLessThanOrEqual(3);
    const stored = await t.store.readStream(stream);
    expect(stored.filter((e) => e.type === 'QuotaReserved')).toHaveLength(10);
  });

  it('a revision conflict with a writer in another process is retried; nothing is appended twice', async () => {
    t = openTempEventStore('batcher', { sync: 'normal' });
    const second = createSqliteEventStore({ path: join(t.dir, 'events.db'), codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(t.keys) }), sync: 'normal' });
    others.push(second);
    const here = createCommandBatcher(t.store, { maxRetries: 50 });
    const there = createCommandBatcher(second, { maxRetries: 50 });
    await here.run(stream, aggregates.tenant, create(1000), context());
    const n = 40;
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => (i % 2 === 0 ? here : there).run(stream, aggregates.tenant, reserve(i), context())),
    );
    const stored = await t.store.readStream(stream);
    expect(stored).toHaveLength(n + 1);
    const ids = stored.map((e) => e.metadata.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    const reserved = stored.filter((e) => e.type === 'QuotaReserved').map((e) => (e.data as { reservationId: string }).reservationId).sort();
    expect(reserved).toEqual(Array.from({ length: n }, (_, i) => `r${i}`).sort());
    expect(new Set(outcomes.map((o) => o.revision)).size).toBe(n);
  });

  it('an append that fails after the batch was decided records nothing, and rejects every command of the batch', async () => {
    t = openTempEventStore('batcher', { sync: 'full' });
    const real = t.store;
    await createCommandBatcher(real).run(stream, aggregates.tenant, create(1000), context());
    let failing = true;
    // The process "dies" between deciding and appending: the append never reaches the store.
    const crashing: EventStore = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'append' && failing) return async () => Promise.reject(Object.assign(new Error('process killed'), { code: 'ECONNRESET' }));
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const batcher = createCommandBatcher(crashing);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => batcher.run(stream, aggregates.tenant, reserve(i), context())));
    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'process killed')).toBe(true);
    expect(await real.readStream(stream)).toHaveLength(1);
    // Afterwards the same commands go through once each.
    failing = false;
    await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.run(stream, aggregates.tenant, reserve(i), context())));
    expect((await real.readStream(stream)).filter((e) => e.type === 'QuotaReserved')).toHaveLength(10);
  });
});
