/**
 * The invalidation bus and the L2 store against a real Redis
 * (NOVACRON_REDIS_URL; skipped when unset, failing under NOVACRON_REQUIRE_INFRA=1).
 * Each test has its own prefix, hence its own channel and keys.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisInvalidationBus, type RedisInvalidationBus } from './redis-bus.ts';
import { createRedisClient } from './redis-client.ts';
import { createRedisL2Store } from './redis-l2-store.ts';
import { encodeInvalidation, invalidationChannel, l2Root } from './redis-protocol.ts';
import { clientIdByName, connectedClient, dropRedisPrefix, eventually, redisInfra, uniqueRedisPrefix } from './redis-testing.ts';

const infra = redisInfra();

describe.runIf(infra.run)('the Redis invalidation bus', () => {
  const opened: Array<{ close(): unknown }> = [];
  const prefixes: string[] = [];
  let admin: Redis | undefined;
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
    if (admin) for (const p of prefixes.splice(0)) await dropRedisPrefix(admin, p);
    admin?.disconnect();
    admin = undefined;
  });

  async function setup(name: string) {
    const prefix = uniqueRedisPrefix(name);
    prefixes.push(prefix);
    admin = await connectedClient(createRedisClient(infra.url(), { timeoutMs: 2000 }));
    const client = (connectionName?: string) => {
      const c = createRedisClient(infra.url(), { timeoutMs: 500, ...(connectionName ? { connectionName } : {}) });
      opened.push({ close: () => c.quit().catch(() => c.disconnect()) });
      return c;
    };
    const bus = (options: { subscriberName?: string; client?: Redis; connectWaitMs?: number } = {}): RedisInvalidationBus => {
      const { client: given, ...rest } = options;
      const b = createRedisInvalidationBus({ client: given ?? client(), prefix, retryMs: 20, ...rest });
      opened.push(b);
      return b;
    };
    /** A listener recording what it gets, and its flushes. */
    const listen = (b: RedisInvalidationBus) => {
      const got: Array<{ tags: readonly string[]; through: number | undefined }> = [];
      let flushes = 0;
      b.subscribe(
        (tags, through) => got.push({ tags, through }),
        () => flushes++,
      );
      return { got, flushes: () => flushes };
    };
    return { prefix, admin: admin!, client, bus, listen };
  }

  it('delivers a publish to this process at once and to the other subscribers through Redis, each once', async () => {
    const { bus, listen } = await setup('bus-deliver');
    const a = bus();
    const b = bus();
    const atA = listen(a);
    const atB = listen(b);
    expect(await a.whenLive(5000)).toBe(true);
    expect(await b.whenLive(5000)).toBe(true);
    // Subscribing flushes (nothing may have been kept from before).
    expect(atA.flushes()).toBe(1);

    b.publish(['vm:1', 'vms'], 42);
    expect(atB.got).toEqual([{ tags: ['vm:1', 'vms'], through: 42 }]); // synchronously, before publish returns
    await eventually('A receives it', () => atA.got.length === 1);
    expect(atA.got).toEqual([{ tags: ['vm:1', 'vms'], through: 42 }]);
    b.publish(['tenant:acme']);
    await eventually('A receives the second', () => atA.got.length === 2);
    expect(atA.got[1]).toEqual({ tags: ['tenant:acme'], through: undefined });
    await b.idle();
    // B's own messages came back from Redis too, and were not delivered twice.
    expect(atB.got).toHaveLength(2);
    expect(b.stats()).toMatchObject({ published: 2, delivered: 0 });
    expect(a.stats()).toMatchObject({ published: 0, delivered: 2, ignored: 0 });
  });

  it('evicts the L2 entries carrying a published tag (and only those) before the message goes out', async () => {
    const { prefix, client, bus, listen } = await setup('bus-evict');
    const store = createRedisL2Store(await connectedClient(client()), prefix);
    expect(await store.set('list-acme', { value: { n: 1 }, tags: ['vm:1', 'vms:tenant:acme'], checkpoint: 5 }, 60_000)).toBe(true);
    expect(await store.set('vm-1', { value: 'one', tags: ['vm:1'], checkpoint: 5 }, 60_000)).toBe(true);
    expect(await store.set('vm-2', { value: 'two', tags: ['vm:2'], checkpoint: 5 }, 60_000)).toBe(true);
    const a = bus();
    const atA = listen(a);
    await a.whenLive(5000);
    // When A gets the message, L2 no longer holds what it evicts.
    let seenInL2: unknown = 'not checked';
    a.subscribe(() => {
      void store.get('vm-1').then(({ entry }) => (seenInL2 = entry));
    });
    const p = bus();
    p.publish(['vm:1'], 9);
    await eventually('A receives it', () => atA.got.length === 1);
    await eventually('A looked into L2', () => seenInL2 !== 'not checked');
    expect(seenInL2).toBeNull();
    expect((await store.get('list-acme')).entry).toBeNull();
    expect(await store.get('vm-2')).toEqual({ entry: { value: 'two', tags: ['vm:2'], checkpoint: 5 }, through: 9 });
    expect(p.stats().l2Evicted).toBe(2);
    // A writer whose load was read below what Redis has invalidated is refused.
    expect(await store.set('vm-1', { value: 'stale', tags: ['vm:1'], checkpoint: 8 }, 60_000)).toBe(false);
    expect(await store.set('vm-1', { value: 'fresh', tags: ['vm:1'], checkpoint: 9 }, 60_000)).toBe(true);
  });

  it('ignores (and counts) messages on the channel that are not invalidations, and goes on', async () => {
    const { prefix, admin, bus, listen } = await setup('bus-malformed');
    const a = bus();
    const atA = listen(a);
    await a.whenLive(5000);
    const channel = invalidationChannel(prefix);
    const garbage = ['hello', '{"v":1}', '{"v":9,"origin":"x","tags":[]}', '{"v":1,"origin":"x","tags":[1,2]}', '\u0000\u00ff', JSON.stringify({ v: 1, origin: 'x', tags: ['vm:1'], through: -3 })];
    for (const message of garbage) await admin.publish(channel, message);
    await admin.publish(channel, encodeInvalidation({ origin: 'someone-else', tags: ['vm:7'], through: 3 }));
    await eventually('the valid message arrives', () => atA.got.length === 1);
    expect(atA.got).toEqual([{ tags: ['vm:7'], through: 3 }]);
    expect(a.stats()).toMatchObject({ ignored: garbage.length, delivered: 1 });
    expect(a.live).toBe(true);
    expect(atA.flushes()).toBe(1); // the one of subscribing: garbage flushes nothing
  });

  it('flushes its listeners when the subscriber connection is killed, and again once subscribed again', async () => {
    const { admin, bus, listen } = await setup('bus-kill');
    const name = `${uniqueRedisPrefix('sub')}`;
    const a = bus({ subscriberName: name });
    const atA = listen(a);
    await a.whenLive(5000);
    expect(atA.flushes()).toBe(1);
    const id = await clientIdByName(admin, name);
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id as string);
    await eventually('A notices', () => !a.live);
    expect(atA.flushes()).toBe(2);
    expect(await a.whenLive(5000)).toBe(true);
    expect(atA.flushes()).toBe(3);
    expect(a.stats().resets).toBe(3);
    // And it delivers again.
    bus().publish(['vm:1'], 1);
    await eventually('A receives after reconnecting', () => atA.got.length === 1);
  });

  it('after a publish that failed (its connection lost), flushes L2 and every subscriber once Redis answers', async () => {
    const { prefix, admin, client, bus, listen } = await setup('bus-dirty');
    const store = createRedisL2Store(await connectedClient(client()), prefix);
    await store.set('vm-1', { value: 'one', tags: ['vm:1'], checkpoint: 5 }, 60_000);
    const a = bus();
    const atA = listen(a);
    await a.whenLive(5000);
    const name = uniqueRedisPrefix('publisher');
    const publisherClient = client(name);
    // No waiting for the connection: a publish while it is down fails at once.
    const publisher = bus({ client: publisherClient, connectWaitMs: 0 });
    await eventually('the publisher is connected', async () => (await clientIdByName(admin, name)) !== undefined);
    // Reconnect 1 s after the kill, not 100 ms: on a loaded machine the publish below must still find it down.
    publisherClient.options.retryStrategy = () => 1000;
    await admin.client('KILL', 'ID', (await clientIdByName(admin, name)) as string);
    await eventually('the publisher notices', () => publisherClient.status !== 'ready');
    publisher.publish(['vm:2'], 11);
    await eventually('the failure is counted', () => publisher.stats().publishErrors >= 1);
    await eventually('a flush reaches A', () => atA.flushes() === 2, 10_000);
    expect(atA.got).toEqual([]); // the lost invalidation itself never came: the flush stands for it
    expect(publisher.stats().l2Flushes).toBe(1);
    // L2 moved to a new epoch, with `through` raised past the lost invalidation.
    expect(await admin.get(`${l2Root(prefix)}:epoch`)).toBe('1');
    expect(await store.get('vm-1')).toEqual({ entry: null, through: 11 });
    // Then it publishes normally again.
    publisher.publish(['vm:3'], 12);
    await eventually('A receives the next', () => atA.got.length === 1);
  });
});
