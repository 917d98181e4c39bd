/**
 * The cache layer scaled out on a real Redis (NOVACRON_REDIS_URL; skipped
 * when unset, failing under NOVACRON_REQUIRE_INFRA=1): two API instances,
 * each with its own L1 and Redis connections, share the L2 and the
 * invalidation channel; the inventory is applied by a third "process" (its
 * own projection host and Redis connections) that the instances read, as
 * API instances read projection files written by processors. Its
 * invalidations can be held back, as if they were still on their way.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, encodeInvalidation, invalidateOnCommit, invalidationChannel } from '../projections/cache-invalidation/index.ts';
import { clientIdByName, connectedClient, dropRedisPrefix, eventually, redisInfra, uniqueRedisPrefix } from '../projections/cache-invalidation/redis-testing.ts';
import { embeddedProjections } from '../projections/index.ts';
import { INVENTORY } from '../projections/inventory/index.ts';
import { createProjectionHost, type ProjectionHost } from '../streams/processing/host.ts';
import { buildApp, type App } from './app.ts';
import { signToken } from './auth/tokens.ts';
import { loadConfig } from './config.ts';
import { openPlatform, type Platform } from './platform.ts';
import { openRedisCache, type RedisCache } from './redis-cache.ts';
import { wireApi } from './wiring.ts';

const infra = redisInfra();
const SECRET = 'redis-cache-int-test-jwt-secret-0123456789';
const vmBody = { name: 'web', vcpus: 1, memoryMiB: 512, diskGiB: 1, image: 'debian-12' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const operator = bearer(signToken(SECRET, { subject: 'op', role: 'operator', ttlSeconds: 3600 }));
const acme = bearer(signToken(SECRET, { subject: 'a', role: 'tenant-admin', tenantId: 'acme', ttlSeconds: 3600 }));

interface Instance {
  name: string;
  app: App;
  redis: RedisCache;
  get(url: string, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** One sample of this instance's /metrics (0 when absent). */
  metric(name: string, labels?: string): Promise<number>;
}

/** What a test works with: the instances, the processor's host and Redis parts, and a gate on its invalidations. */
interface Cluster {
  prefix: string;
  admin: Redis;
  host: ProjectionHost;
  processor: RedisCache;
  a: Instance;
  b: Instance;
  /** From now on the processor's invalidations wait (as if still on their way) until `release()`. */
  hold(): void;
  release(): void;
  /** Everything the processor committed so far has been published and has reached both instances. */
  settled(): Promise<void>;
  /** Takes note of the messages the instances missed (or got from elsewhere) so far: call it when nothing is on its way. */
  resync(): void;
  command(instance: Instance, method: 'POST' | 'PUT', url: string, body?: object, headers?: Record<string, string>): Promise<{ id?: string; position: number; streamId: string; revision: number }>;
  close(): Promise<void>;
}

async function openCluster(): Promise<Cluster> {
  const prefix = uniqueRedisPrefix('api');
  const root = mkdtempSync(join(tmpdir(), 'novacron-redis-cache-'));
  const env = (dir: string, redis = true) => ({
    NOVACRON_DATA_DIR: join(root, dir),
    NOVACRON_SQLITE_SYNC: 'normal',
    NOVACRON_SWEEP_INTERVAL_MS: '3600000',
    NOVACRON_FORECAST_INTERVAL_MS: '86400000',
    NOVACRON_SESSION_WAIT_MS: '5000',
    NOVACRON_JWT_SECRET: SECRET,
    NOVACRON_REDIS_PREFIX: prefix,
    ...(redis ? { NOVACRON_REDIS_URL: infra.url() } : {}),
  });
  const admin = await connectedClient(createRedisClient(infra.url(), { timeoutMs: 2000 }));

  // The third process: the event store and the inventory's processor, publishing on its own connections.
  const base = openPlatform(loadConfig(env('processor', false)));
  const processor = openRedisCache(loadConfig(env('processor')).redis, 'processor', { name: `${prefix}:processor` });
  const publish = invalidateOnCommit(processor.bus, INVENTORY);
  let holding = false;
  const held: Array<() => void> = [];
  const host = createProjectionHost({
    dir: join(root, 'projections'),
    source: base.store,
    projections: embeddedProjections,
    sync: 'normal',
    onCommit: (name, checkpoint, batch) => (holding ? held.push(() => publish(name, checkpoint, batch)) : publish(name, checkpoint, batch)),
  });
  await host.start();
  // What the API instances see of it: its files, not its processors.
  const view: ProjectionHost = {
    names: host.names,
    start: async () => undefined,
    stop: async () => undefined,
    queries: (name) => host.queries(name),
    ordering: (name) => host.ordering(name),
    waitFor: (name, position, timeoutMs) => host.waitFor(name, position, timeoutMs),
    waitForStream: (name, streamId, revision, timeoutMs) => host.waitForStream(name, streamId, revision, timeoutMs),
    checkpoint: (name) => host.checkpoint(name),
    status: () => host.status(),
    replay: (name, options) => host.replay(name, options),
  };

  async function instance(name: string): Promise<Instance> {
    const config = loadConfig(env(name));
    mkdirSync(config.dataDir, { recursive: true });
    const redis = openRedisCache(config.redis, 'api', { name: `${prefix}:${name}` });
    const platform: Platform = { config, catalog: base.catalog, keys: base.keys, store: base.store, projections: view, invalidations: redis.bus, redis, resumeInvalidations: async () => undefined /* the inventory runs in the processor process */, close: () => redis.close() };
    const wiring = wireApi(platform);
    const app = buildApp({ platform, config, logger: false, tenantExists: wiring.tenantExists, extraPlugins: wiring.plugins });
    app.addHook('onClose', async () => platform.close());
    await app.ready(); // waits for the invalidation subscription
    await connectedClient(redis.client);
    return {
      name,
      app,
      redis,
      async get(url, headers = {}) {
        const response = await app.inject({ method: 'GET', url, headers: { ...acme, ...headers } });
        return { status: response.statusCode, body: response.json() };
      },
      async metric(metricName, labels = '') {
        const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
        const line = text.split('\n').find((l) => l.startsWith(`${metricName}${labels} `));
        return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
      },
    };
  }
  const a = await instance('api-a');
  const b = await instance('api-b');

  /** Processor messages an instance never got (its subscription was down), less messages it got from others: `settled` allows for them. */
  const lost = { a: 0, b: 0 };
  const cluster: Cluster = {
    prefix,
    admin,
    host,
    processor,
    a,
    b,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const run of held.splice(0)) run();
    },
    async settled() {
      await processor.bus.idle();
      const published = processor.bus.stats().published;
      await eventually('both instances received every invalidation', () => a.redis.bus.stats().delivered + lost.a === published && b.redis.bus.stats().delivered + lost.b === published);
    },
    resync() {
      const published = processor.bus.stats().published;
      lost.a = published - a.redis.bus.stats().delivered;
      lost.b = published - b.redis.bus.stats().delivered;
    },
    async command(on, method, url, body, headers = operator) {
      const response = await on.app.inject({ method, url, headers, ...(body ? { payload: body } : {}) });
      if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
      const answer = response.json() as { id?: string; position: number; streamId: string; revision: number };
      expect(await host.waitFor(INVENTORY, answer.position, 5000)).toBe(true);
      return answer;
    },
    async close() {
      cluster.release();
      await a.app.close();
      await b.app.close();
      await host.stop();
      await processor.close();
      await base.close();
      await dropRedisPrefix(admin, prefix);
      admin.disconnect();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return cluster;
}

describe.runIf(infra.run)('the query cache on Redis: two API instances, a processor elsewhere', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await openCluster();
    await c.command(c.a, 'POST', '/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02 });
    await c.command(c.a, 'POST', '/v1/nodes', { id: 'n1', regionId: 'eu-west', vcpus: 64, memoryMiB: 262_144, diskGiB: 10_000 });
    await c.command(c.a, 'POST', '/v1/tenants', { id: 'acme', name: 'Acme', quota: { vms: 50, vcpus: 50, memoryMiB: 1_000_000, diskGiB: 1000 }, allowedRegions: ['eu-west'] });
    await c.settled();
  });
  afterAll(async () => c?.close());

  it('(a) a list cached in both instances is evicted in both by the next event that changes it', async () => {
    const { a, b } = c;
    const first = await c.command(a, 'POST', '/v1/vms', { ...vmBody, tenantId: 'acme' });
    await c.settled();

    const stored = await a.metric('novacron_query_cache_l2_stores_total', '{outcome="stored"}');
    const listA = await a.get('/v1/vms');
    expect(listA.status).toBe(200);
    expect((listA.body['items'] as Array<{ id: string }>).map((v) => v.id)).toContain(first.id);
    // A read it from the projection, and wrote it to L2 for everyone.
    await eventually('A stored the list in L2', async () => (await a.metric('novacron_query_cache_l2_stores_total', '{outcome="stored"}')) === stored + 1);
    const bL2Hits = await b.metric('novacron_query_cache_l2_hits_total', '{query="vms"}');
    expect((await b.get('/v1/vms')).body).toEqual(listA.body);
    expect(await b.metric('novacron_query_cache_l2_hits_total', '{query="vms"}')).toBe(bL2Hits + 1);
    // Both have it in L1 now.
    const aHits = await a.metric('novacron_query_cache_hits_total', '{query="vms"}');
    const bHits = await b.metric('novacron_query_cache_hits_total', '{query="vms"}');
    expect((await a.get('/v1/vms')).body).toEqual(listA.body);
    expect((await b.get('/v1/vms')).body).toEqual(listA.body);
    expect(await a.metric('novacron_query_cache_hits_total', '{query="vms"}')).toBe(aHits + 1);
    expect(await b.metric('novacron_query_cache_hits_total', '{query="vms"}')).toBe(bHits + 1);

    // The next VM of acme, created through B and applied by the processor, evicts the list everywhere.
    const aEvicted = await a.metric('novacron_query_cache_evictions_total', '{reason="invalidated"}');
    const bEvicted = await b.metric('novacron_query_cache_evictions_total', '{reason="invalidated"}');
    const l2Evicted = c.processor.bus.stats().l2Evicted;
    const second = await c.command(b, 'POST', '/v1/vms', { ...vmBody, name: 'second', tenantId: 'acme' });
    await c.settled();
    expect(await a.metric('novacron_query_cache_evictions_total', '{reason="invalidated"}')).toBeGreaterThan(aEvicted);
    expect(await b.metric('novacron_query_cache_evictions_total', '{reason="invalidated"}')).toBeGreaterThan(bEvicted);
    expect(c.processor.bus.stats().l2Evicted).toBeGreaterThan(l2Evicted);
    for (const instance of [a, b]) {
      const ids = ((await instance.get('/v1/vms')).body['items'] as Array<{ id: string }>).map((v) => v.id);
      expect(ids, instance.name).toContain(second.id);
    }
  });

  it('(b) a session read after a command never returns the stale L1 or L2 value', async () => {
    const { a, b } = c;
    const vm = await c.command(a, 'POST', '/v1/vms', { ...vmBody, name: 'session', tenantId: 'acme' });
    await c.settled();
    const url = `/v1/vms/${vm.id}`;
    const stored = await a.metric('novacron_query_cache_l2_stores_total', '{outcome="stored"}');
    expect((await a.get(url)).body['state']).toBe('stopped');
    await eventually('A stored the VM in L2', async () => (await a.metric('novacron_query_cache_l2_stores_total', '{outcome="stored"}')) === stored + 1);

    // The processor applies the start; its invalidation is still on its way.
    c.hold();
    const started = await c.command(a, 'POST', `${url}/start`, undefined, acme);
    const after = { 'x-novacron-after': String(started.position) };
    // The caches are stale: A's L1, and L2 (which B reads).
    expect((await a.get(url)).body['state']).toBe('stopped');
    const bL2Hits = await b.metric('novacron_query_cache_l2_hits_total', '{query="vm"}');
    expect((await b.get(url)).body['state']).toBe('stopped');
    expect(await b.metric('novacron_query_cache_l2_hits_total', '{query="vm"}')).toBe(bL2Hits + 1);

    // Session reads skip both: B (stale entry in L1 and in L2), then A (stale in L1), by position and by stream revision.
    const bL2Misses = await b.metric('novacron_query_cache_l2_misses_total', '{query="vm"}');
    expect((await b.get(`${url}?consistency=session`, after)).body).toMatchObject({ state: 'running' });
    expect(await b.metric('novacron_query_cache_l2_misses_total', '{query="vm"}')).toBe(bL2Misses + 1);
    expect((await a.get(url, after)).body).toMatchObject({ state: 'running' });
    expect((await a.get(url, { 'x-novacron-after': `${started.streamId}@${started.revision}` })).body).toMatchObject({ state: 'running' });

    // The invalidation arrives: eventual reads catch up everywhere.
    c.release();
    await c.settled();
    expect((await a.get(url)).body['state']).toBe('running');
    expect((await b.get(url)).body['state']).toBe('running');
  });

  it('(c) losing the subscription clears the local cache, so nothing stale is served after a lost message', async () => {
    const { a, b, admin } = c;
    const vm = await c.command(a, 'POST', '/v1/vms', { ...vmBody, name: 'lost', tenantId: 'acme' });
    await c.settled();
    const url = `/v1/vms/${vm.id}`;
    for (let i = 0; i < 2; i++) expect((await a.get(url)).body['state']).toBe('stopped');
    expect(await a.metric('novacron_query_cache_entries')).toBeGreaterThan(0);

    c.hold();
    const started = await c.command(a, 'POST', `${url}/start`, undefined, acme);
    expect((await a.get(url)).body['state']).toBe('stopped'); // cached, stale: the message is on its way

    // A's subscriber connection dies; the message goes out while it is down, and A never receives it.
    const flushed = await a.metric('novacron_query_cache_evictions_total', '{reason="flushed"}');
    const id = await clientIdByName(admin, `${c.prefix}:api-a:invalidations`);
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id as string);
    await eventually('A notices the lost connection', () => !a.redis.bus.live);
    expect(await a.metric('novacron_query_cache_entries')).toBe(0);
    expect(await a.metric('novacron_query_cache_evictions_total', '{reason="flushed"}')).toBeGreaterThan(flushed);
    expect(await a.metric('novacron_invalidation_subscriber_up')).toBe(0);
    const deliveredToA = a.redis.bus.stats().delivered;
    c.release();
    await c.processor.bus.idle();
    await eventually('B received it', () => b.redis.bus.stats().delivered === c.processor.bus.stats().published);
    expect(await a.redis.bus.whenLive(5000)).toBe(true);
    expect(a.redis.bus.stats().delivered).toBe(deliveredToA); // lost for A
    c.resync();

    // Nothing stale: A answers the start, eventual and session alike.
    expect((await a.get(url)).body['state']).toBe('running');
    expect((await a.get(url, { 'x-novacron-after': String(started.position) })).body['state']).toBe('running');
    expect(await a.metric('novacron_invalidation_subscriber_up')).toBe(1);
    expect(await a.metric('novacron_invalidation_resets_total')).toBeGreaterThanOrEqual(3); // subscribed, lost, subscribed again
  });

  it('(d) malformed messages on the channel are ignored: nothing crashes, nothing is flushed, invalidations go on', async () => {
    const { a, b, admin } = c;
    const vm = await c.command(a, 'POST', '/v1/vms', { ...vmBody, name: 'garbage', tenantId: 'acme' });
    await c.settled();
    const url = `/v1/vms/${vm.id}`;
    await a.get(url);
    await b.get(url);
    const entries = [await a.metric('novacron_query_cache_entries'), await b.metric('novacron_query_cache_entries')];
    const before = [a.redis.bus.stats(), b.redis.bus.stats()];

    const channel = invalidationChannel(c.prefix);
    const garbage = ['', 'flush', '{', '[]', '{"v":1,"origin":"x"}', '{"v":1,"origin":"x","tags":"vm:1"}', '{"v":1,"origin":"x","flush":"yes"}', '{"v":2,"origin":"x","tags":[]}', 'x'.repeat(100_000)];
    for (const message of garbage) await admin.publish(channel, message);
    // A valid one after them, touching nothing cached: once it is in, the garbage has been seen.
    await admin.publish(channel, encodeInvalidation({ origin: 'a-test', tags: ['vm:not-cached'] }));
    await eventually('both got the valid message', () => a.redis.bus.stats().delivered === before[0]!.delivered + 1 && b.redis.bus.stats().delivered === before[1]!.delivered + 1);
    expect(a.redis.bus.stats().ignored - before[0]!.ignored).toBe(garbage.length);
    expect(b.redis.bus.stats().ignored - before[1]!.ignored).toBe(garbage.length);
    expect(await a.metric('novacron_invalidation_messages_total', '{outcome="ignored"}')).toBeGreaterThanOrEqual(garbage.length);
    expect([a.redis.bus.live, b.redis.bus.live]).toEqual([true, true]);
    expect([a.redis.bus.stats().resets, b.redis.bus.stats().resets]).toEqual([before[0]!.resets, before[1]!.resets]);
    expect([await a.metric('novacron_query_cache_entries'), await b.metric('novacron_query_cache_entries')]).toEqual(entries);
    c.resync(); // the valid message was not the processor's

    // And real invalidations still evict.
    await c.command(a, 'POST', `${url}/start`, undefined, acme);
    await c.settled();
    expect((await a.get(url)).body['state']).toBe('running');
    expect((await b.get(url)).body['state']).toBe('running');
  });
});
