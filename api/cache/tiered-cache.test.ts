import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { InvalidationBus, InvalidationListener, L2Entry } from '../../projections/cache-invalidation/index.ts';
import type { L2Cache } from './l2-cache.ts';
import { createQueryCache } from './query-cache.ts';
import { createTieredCache } from './tiered-cache.ts';

/** A bus the test drives: publish, lose invalidations (flush), go offline. */
function fakeBus() {
  const listeners = new Set<{ listener: InvalidationListener; onFlush: (() => void) | undefined }>();
  let live = true;
  const bus: InvalidationBus = {
    publish: (tags, through) => listeners.forEach(({ listener }) => listener(tags, through)),
    subscribe(listener, onFlush) {
      const entry = { listener, onFlush };
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
    get live() {
      return live;
    },
    close: () => listeners.clear(),
  };
  return {
    bus,
    flush: () => listeners.forEach(({ onFlush }) => onFlush?.()),
    setLive: (value: boolean) => {
      live = value;
    },
  };
}

/** An L2 in memory, answering when the test says (`hold`), or failing. */
function fakeL2() {
  const entries = new Map<string, L2Entry>();
  let through = -1;
  let failing = false;
  let held: Array<() => void> | null = null;
  const l2: L2Cache = {
    async get(_query, key, atLeast) {
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      if (failing) return null; // the real one counts the error and answers a miss
      const entry = entries.get(key) ?? null;
      return entry && (atLeast === undefined || entry.checkpoint >= atLeast || through >= atLeast) ? entry : null;
    },
    async set(key, entry) {
      if (failing || entry.checkpoint < through) return false;
      entries.set(key, entry);
      return true;
    },
  };
  return {
    l2,
    entries,
    setThrough: (t: number) => {
      through = t;
    },
    fail: () => {
      failing = true;
    },
    hold: () => {
      held = [];
    },
    release: () => {
      const waiting = held ?? [];
      held = null;
      waiting.forEach((resolve) => resolve());
    },
  };
}

function setup({ withL2 = true } = {}) {
  const { bus, flush, setLive } = fakeBus();
  const registry = new Registry();
  const l1 = createQueryCache({ bus, registry, max: 100 });
  const remote = fakeL2();
  let checkpoint = 0;
  let value = 'v0';
  let loads = 0;
  const cache = createTieredCache({ l1, l2: withL2 ? remote.l2 : null, checkpoint: () => checkpoint });
  const read = (atLeast?: number) =>
    cache.read('vm', 'vm-1', () => {
      loads++;
      return { value, tags: ['vm:1'] };
    }, atLeast === undefined ? {} : { atLeast });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  };
  return {
    bus,
    l1,
    remote,
    read,
    flush,
    setLive,
    metric,
    loads: () => loads,
    /** The projection applies an event at `position` that changes the value. */
    commit(position: number, next: string) {
      checkpoint = position;
      value = next;
    },
  };
}

describe('the L1 cache and session reads', () => {
  it('a session read skips an entry older than its write until the invalidations up to it have arrived', async () => {
    const t = setup({ withL2: false });
    expect(await t.read()).toBe('v0');
    t.commit(5, 'v5');
    // Over Redis the invalidation of 5 may arrive after the session read woke up: the entry (read at 0) is skipped.
    expect(await t.read()).toBe('v0');
    expect(await t.read(5)).toBe('v5');
    expect(t.loads()).toBe(2);
    // Now read at 5: fit for a session at 5.
    expect(await t.read(5)).toBe('v5');
    expect(t.loads()).toBe(2);
    // An unrelated commit at 8 arrives: the entry survived every invalidation up to 8.
    t.commit(8, 'v5');
    t.bus.publish(['vm:2'], 8);
    expect(await t.read(8)).toBe('v5');
    expect(t.loads()).toBe(2);
    expect(await t.read(9)).toBe('v5');
    expect(t.loads()).toBe(3);
  });

  it('drops everything when the bus may have lost invalidations, and stores nothing while it is not live', async () => {
    const t = setup({ withL2: false });
    await t.read();
    expect(t.l1.size).toBe(1);
    t.bus.publish([], 3);
    expect(t.l1.through).toBe(3);
    t.setLive(false);
    t.flush();
    expect(t.l1.size).toBe(0);
    expect(t.l1.through).toBe(-1);
    expect(await t.metric('novacron_query_cache_evictions_total', { reason: 'flushed' })).toBe(1);
    await t.read();
    await t.read();
    expect(t.loads()).toBe(3);
    expect(t.l1.size).toBe(0);
    t.setLive(true);
    await t.read();
    await t.read();
    expect(t.loads()).toBe(4);
  });
});

describe('L1 → L2 → projection', () => {
  it('an L1 miss is answered from L2, copied into L1, and the projection is not read', async () => {
    const t = setup();
    t.remote.entries.set('vm-1', { value: 'shared', tags: ['vm:1'], checkpoint: 0 });
    expect(await t.read()).toBe('shared');
    expect(await t.read()).toBe('shared');
    expect(t.loads()).toBe(0);
    expect(t.l1.size).toBe(1);
  });

  it('a load is stored in L1 and written to L2 with the checkpoint it was read at', async () => {
    const t = setup();
    t.commit(4, 'v4');
    expect(await t.read()).toBe('v4');
    expect(t.remote.entries.get('vm-1')).toEqual({ value: 'v4', tags: ['vm:1'], checkpoint: 4 });
  });

  it('a session read skips an L2 entry older than its write, unless L2 has applied the invalidations up to it', async () => {
    const t = setup();
    t.remote.entries.set('vm-1', { value: 'stale', tags: ['vm:1'], checkpoint: 2 });
    t.commit(5, 'v5');
    expect(await t.read(5)).toBe('v5');
    t.remote.entries.set('vm-1', { value: 'survivor', tags: ['vm:1'], checkpoint: 2 });
    t.l1.flush();
    t.remote.setThrough(5);
    expect(await t.read(5)).toBe('survivor');
  });

  it('an L2 answer is not copied into L1 if an invalidation arrived meanwhile, or if L1 knows of later invalidations', async () => {
    const t = setup();
    t.remote.entries.set('vm-1', { value: 'old', tags: ['vm:1'], checkpoint: 1 });
    t.remote.hold();
    const reading = t.read();
    // A local commit evicts L1 at once; its L2 eviction reaches Redis a moment later.
    t.commit(6, 'v6');
    t.bus.publish(['vm:1'], 6);
    t.remote.release();
    expect(await reading).toBe('old'); // an eventual read may be a moment behind…
    expect(t.l1.size).toBe(0); // …but L1 does not keep it
    // L1 has been told of invalidations up to 6: an L2 entry read at 1 is not copied either.
    expect(await t.read()).toBe('old');
    expect(t.l1.size).toBe(0);
    t.remote.entries.set('vm-1', { value: 'v6', tags: ['vm:1'], checkpoint: 6 });
    expect(await t.read()).toBe('v6');
    expect(t.l1.size).toBe(1);
  });

  it('L2 failing: the projection answers', async () => {
    const t = setup();
    t.remote.fail();
    t.commit(2, 'v2');
    expect(await t.read()).toBe('v2');
    expect(t.loads()).toBe(1);
  });
});
