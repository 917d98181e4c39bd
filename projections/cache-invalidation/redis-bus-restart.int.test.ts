/**
 * Restarts, of NovaCron or of Redis, must not let an L2 entry outlive an
 * invalidation. On the real Redis (NOVACRON_REDIS_URL; skipped when unset,
 * failing under NOVACRON_REQUIRE_INFRA=1), and on a Redis of the test's own
 * (redis-server on a free port, no persistence) that it restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisInvalidationBus, type RedisInvalidationBus } from './redis-bus.ts';
import { createRedisClient } from './redis-client.ts';
import { createRedisL2Store } from './redis-l2-store.ts';
import { freshEnough } from './redis-protocol.ts';
import { connectedClient, dropRedisPrefix, eventually, redisInfra, uniqueRedisPrefix } from './redis-testing.ts';

const infra = redisInfra();

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A Redis of this test's own, without persistence: a restart loses every key, as a cache's Redis does. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = createRedisClient(`redis://127.0.0.1:${port}`, { timeoutMs: 500 });
  await eventually('the test’s Redis answers', () => probe.status === 'ready', 10_000);
  probe.disconnect();
  return child;
}

describe.runIf(infra.run)('the Redis invalidation bus across restarts', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function open(url: string, prefix: string) {
    const client = createRedisClient(url, { timeoutMs: 500 });
    cleanup.push(() => client.quit().catch(() => client.disconnect()));
    const bus = (): RedisInvalidationBus => {
      const b = createRedisInvalidationBus({ client, prefix, retryMs: 20 });
      cleanup.push(() => b.close());
      return b;
    };
    return { client, store: createRedisL2Store(client, prefix), bus };
  }

  it('a process whose projection committed past what it published (it crashed) flushes L2 before publishing again', async () => {
    const prefix = uniqueRedisPrefix('bus-resume');
    const { client, store, bus } = open(infra.url(), prefix);
    await connectedClient(client);
    cleanup.push(() => dropRedisPrefix(client, prefix));
    // The previous run published up to 5, and an entry was read then; it committed (5, 8], which changed vm:1, and crashed.
    const before = bus();
    before.publish(['tenant:acme'], 5);
    await before.idle();
    expect(await store.set('vm-1', { value: 'as at 5', tags: ['vm:1'], checkpoint: 5 }, 60_000)).toBe(true);
    // The restarted process, its projection at 8, resumes; then commits 9 (which does not touch vm:1).
    const after = bus();
    await after.resumeFrom(8);
    after.publish(['vm:2'], 9);
    await after.idle();
    // A session read of the write at 8 must not get the entry read at 5; an eventual one neither.
    const { entry, through } = await store.get('vm-1');
    expect(entry === null || !freshEnough(entry.checkpoint, through, 8)).toBe(true);
    expect(entry).toBeNull();
    expect(after.stats().l2Flushes).toBe(1);
  });

  it('a process whose projection is not past what Redis has applied does not flush when it resumes', async () => {
    const prefix = uniqueRedisPrefix('bus-resume-clean');
    const { client, store, bus } = open(infra.url(), prefix);
    await connectedClient(client);
    cleanup.push(() => dropRedisPrefix(client, prefix));
    const before = bus();
    before.publish(['tenant:acme'], 8);
    await before.idle();
    await store.set('vm-1', { value: 'as at 8', tags: ['vm:1'], checkpoint: 8 }, 60_000);
    const after = bus();
    await after.resumeFrom(8);
    await after.resumeFrom(0); // a fresh projection: nothing was committed that was not published
    expect(after.stats().l2Flushes).toBe(0);
    expect((await store.get('vm-1')).entry).not.toBeNull();
  });

  it('after Redis restarts (its keys and `through` lost), a writer lagging behind cannot put back an entry that survives later invalidations', async () => {
    const port = await freePort();
    let server = await startRedis(port);
    cleanup.push(() => server.kill('SIGKILL'));
    const url = `redis://127.0.0.1:${port}`;
    const prefix = uniqueRedisPrefix('bus-redis-restart');
    const { client, store, bus } = open(url, prefix);
    await connectedClient(client);
    const leader = bus();
    leader.publish(['vm:1'], 10);
    await leader.idle();
    expect(await store.through()).toBe(10);

    server.kill('SIGKILL');
    await once(server, 'exit');
    server = await startRedis(port);
    const lagging: Redis = await connectedClient(createRedisClient(url, { timeoutMs: 500 }));
    cleanup.push(() => lagging.quit().catch(() => lagging.disconnect()));
    await eventually('the leader is connected again', () => client.status === 'ready', 10_000);
    // Give the leader time to notice the restart (the outcome below is what counts).
    await eventually('the leader has done what a restart of Redis calls for', async () => (await store.through()) >= 10, 3000).catch(() => undefined);
    await leader.idle();
    // An instance whose projection is at 5 (before vm:1 changed at 10) writes what it read.
    await createRedisL2Store(lagging, prefix).set('vm-1', { value: 'as at 5', tags: ['vm:1'], checkpoint: 5 }, 60_000);
    leader.publish(['vm:2'], 11);
    await leader.idle();
    const { entry, through } = await store.get('vm-1');
    expect(entry === null || !freshEnough(entry.checkpoint, through, 10)).toBe(true);
  }, 30_000);

  it('a subscriber connection that stops answering is noticed by its PING, dropped and reopened: the caches are emptied, then live again', async () => {
    const port = await freePort();
    const server = await startRedis(port);
    cleanup.push(() => server.kill('SIGKILL'));
    const url = `redis://127.0.0.1:${port}`;
    const { client } = open(url, uniqueRedisPrefix('bus-heartbeat'));
    await connectedClient(client);
    const bus = createRedisInvalidationBus({ client, prefix: uniqueRedisPrefix('bus-heartbeat'), heartbeatMs: 50, heartbeatTimeoutMs: 200 });
    cleanup.push(() => bus.close());
    let flushes = 0;
    bus.subscribe(() => undefined, () => flushes++);
    expect(await bus.whenLive(5000)).toBe(true);
    const flushesWhenLive = flushes;

    // Redis stops answering every client for 1.5 s (as a connection that died silently would).
    const admin: Redis = await connectedClient(createRedisClient(url, { timeoutMs: 500 }));
    cleanup.push(() => admin.quit().catch(() => admin.disconnect()));
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    await eventually('the bus to drop its deaf subscription', () => !bus.live, 1400);
    expect(flushes).toBeGreaterThan(flushesWhenLive);
    expect(await bus.whenLive(10_000)).toBe(true);
  }, 30_000);
});
