/**
 * The L1 query cache in the API: entries are evicted by the events that change
 * them, and a session read never gets a cached answer older than the write it
 * names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessInvalidationBus, invalidateOnCommit } from '../projections/cache-invalidation/index.ts';
import { embeddedProjections } from '../projections/index.ts';
import { INVENTORY } from '../projections/inventory/index.ts';
import type { EventStore, Subscription } from '../streams/eventstore/index.ts';
import { createProjectionHost } from '../streams/processing/host.ts';
import { buildApp } from './app.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { signToken } from './auth/tokens.ts';
import { loadConfig } from './config.ts';
import { openPlatform, type Platform } from './platform.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';
import { wireApi } from './wiring.ts';

const vmBody = { name: 'web', vcpus: 1, memoryMiB: 512, diskGiB: 1, image: 'debian-12' };

let f: FleetApp;
beforeAll(async () => {
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
  await seedApi(f, { nodes: 2 });
});
afterAll(async () => f?.close());

/** The value of one sample of the app's /metrics (0 when absent). */
async function metric(name: string, labels = ''): Promise<number> {
  const text = (await f.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the L1 query cache', () => {
  it('a cached list is evicted by the next event that changes it', async () => {
    const admin = f.tenant('acme');
    const list = (headers: Record<string, string> = {}) => f.app.inject({ method: 'GET', url: '/v1/vms', headers: { ...admin, ...headers } });
    const first = await f.setup('POST', '/v1/vms', { ...vmBody, tenantId: 'acme' });
    // Make sure the inventory has the VM before the list is cached.
    const before = (await list({ 'x-novacron-after': String(first.position) })).json();
    expect(before.items.map((v: { id: string }) => v.id)).toContain(first.id);

    const misses = await metric('novacron_query_cache_misses_total', '{query="vms"}');
    const hits = await metric('novacron_query_cache_hits_total', '{query="vms"}');
    const evicted = await metric('novacron_query_cache_evictions_total', '{reason="invalidated"}');
    expect((await list()).json()).toEqual(before);
    expect(await metric('novacron_query_cache_hits_total', '{query="vms"}')).toBe(hits + 1);

    // The next VM of acme: its VmCreated evicts acme's list.
    const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: admin, payload: vmBody });
    expect(created.statusCode).toBe(201);
    const { id, position } = created.json();
    expect(await f.platform.projections.waitFor('inventory', position, 5000)).toBe(true);
    expect(await metric('novacron_query_cache_evictions_total', '{reason="invalidated"}')).toBeGreaterThan(evicted);

    const after = (await list()).json();
    expect(after.items.map((v: { id: string }) => v.id)).toEqual([...before.items.map((v: { id: string }) => v.id), id].sort());
    expect(await metric('novacron_query_cache_misses_total', '{query="vms"}')).toBe(misses + 1);

    // globex's list is not acme's: an acme VM leaves it cached.
    const globex = f.tenant('globex');
    await f.app.inject({ method: 'GET', url: '/v1/vms', headers: globex });
    const globexHits = await metric('novacron_query_cache_hits_total', '{query="vms"}');
    const another = (await f.app.inject({ method: 'POST', url: '/v1/vms', headers: admin, payload: vmBody })).json();
    expect(await f.platform.projections.waitFor('inventory', another.position, 5000)).toBe(true);
    await f.app.inject({ method: 'GET', url: '/v1/vms', headers: globex });
    expect(await metric('novacron_query_cache_hits_total', '{query="vms"}')).toBe(globexHits + 1);
  });

  it('a session read never returns a cached answer older than the write it names', async () => {
    const admin = f.tenant('acme');
    const vm = (await f.setup('POST', '/v1/vms', { ...vmBody, tenantId: 'acme' })).id as string;
    const hitsBefore = await metric('novacron_query_cache_hits_total', '{query="vm"}');
    let state = 'stopped';
    let staleEventual = 0;
    const ROUNDS = 200;
    for (let i = 0; i < ROUNDS; i++) {
      // Warm the cache with the current state (read twice: the second is a hit).
      for (let r = 0; r < 2; r++) await f.app.inject({ method: 'GET', url: `/v1/vms/${vm}`, headers: admin });
      const action = state === 'stopped' ? 'start' : 'stop';
      const written = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm}/${action}`, headers: admin });
      expect(written.statusCode, written.body).toBe(200);
      state = action === 'start' ? 'running' : 'stopped';
      const { position } = written.json();
      const eventual = (await f.app.inject({ method: 'GET', url: `/v1/vms/${vm}`, headers: admin })).json();
      if (eventual.state !== state) staleEventual++;
      const session = await f.app.inject({ method: 'GET', url: `/v1/vms/${vm}?consistency=session`, headers: { ...admin, 'x-novacron-after': String(position) } });
      expect(session.statusCode).toBe(200);
      expect(session.json().state).toBe(state);
    }
    console.log(`[${expect.getState().currentTestName}] eventual reads right after the write that were stale: ${staleEventual}/${ROUNDS}`);
    // The cache was in use all along.
    expect(await metric('novacron_query_cache_hits_total', '{query="vm"}')).toBeGreaterThanOrEqual(hitsBefore + ROUNDS);
  });

  it('/metrics: hits, misses, evictions, hit ratio and entries', async () => {
    const text = (await f.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const name of ['novacron_query_cache_hits_total', 'novacron_query_cache_misses_total', 'novacron_query_cache_evictions_total', 'novacron_query_cache_hit_ratio', 'novacron_query_cache_entries']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    const ratio = await metric('novacron_query_cache_hit_ratio');
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
  });
});

/**
 * The event store as the projections see it, with a gate: while it is closed,
 * events reach the projections' runners but are held there, so the
 * projections lag behind the log for as long as a test wants.
 */
function gatedSource(store: EventStore) {
  let open = true;
  let waiting: Array<() => void> = [];
  const pass = async () => {
    while (!open) await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const source: EventStore = {
    ...store,
    subscribeToAll(options): Subscription {
      const inner = store.subscribeToAll(options);
      const events = inner[Symbol.asyncIterator]();
      return {
        get position() {
          return inner.position;
        },
        get buffered() {
          return open ? inner.buffered : 0;
        },
        stop: () => inner.stop(),
        [Symbol.asyncIterator]: () => ({
          async next() {
            const result = await events.next();
            await pass();
            return result;
          },
        }),
      };
    },
  };
  return {
    source,
    close: () => {
      open = false;
    },
    open: () => {
      open = true;
      const resolve = waiting;
      waiting = [];
      for (const r of resolve) r();
    },
  };
}

describe('the L1 query cache while the inventory lags', () => {
  it('an eventual read answers the stale cached VM; a session read waits, and by then the entry is evicted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'novacron-gated-'));
    const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_SWEEP_INTERVAL_MS: '3600000', NOVACRON_SESSION_WAIT_MS: '10000' });
    const base = openPlatform(config);
    const gate = gatedSource(base.store);
    const invalidations = createInProcessInvalidationBus();
    const projections = createProjectionHost({
      dir: join(dataDir, 'gated-projections'),
      source: gate.source,
      projections: embeddedProjections,
      sync: 'normal',
      onCommit: invalidateOnCommit(invalidations, INVENTORY),
    });
    const platform: Platform = { ...base, projections, invalidations, close: async () => { await projections.stop(); await base.close(); } };
    const wiring = wireApi(platform);
    const app = buildApp({ platform, config, logger: false, tenantExists: wiring.tenantExists, extraPlugins: wiring.plugins });
    try {
      await app.ready();
      const secret = loadJwtSecret({ value: config.jwtSecret, dataDir });
      const operator = { authorization: `Bearer ${signToken(secret, { subject: 'op', role: 'operator', ttlSeconds: 600 })}` };
      const admin = { authorization: `Bearer ${signToken(secret, { subject: 'a', role: 'tenant-admin', tenantId: 'acme', ttlSeconds: 600 })}` };
      const setup = async (url: string, payload: object) => {
        const r = await app.inject({ method: 'POST', url, headers: operator, payload });
        expect(r.statusCode, r.body).toBeLessThan(300);
        return r.json();
      };
      await setup('/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02 });
      await setup('/v1/nodes', { id: 'n1', regionId: 'eu-west', vcpus: 16, memoryMiB: 65_536, diskGiB: 1000 });
      await setup('/v1/tenants', { id: 'acme', name: 'Acme', quota: { vms: 10, vcpus: 10, memoryMiB: 65_536, diskGiB: 100 }, allowedRegions: ['eu-west'] });
      const vm = await setup('/v1/vms', { ...vmBody, tenantId: 'acme' });
      const get = (headers: Record<string, string> = {}, query = '') => app.inject({ method: 'GET', url: `/v1/vms/${vm.id}${query}`, headers: { ...admin, ...headers } });

      expect((await get({ 'x-novacron-after': String(vm.position) })).json().state).toBe('stopped');
      expect((await get()).json().state).toBe('stopped'); // cached now

      gate.close();
      const started = await app.inject({ method: 'POST', url: `/v1/vms/${vm.id}/start`, headers: admin });
      expect(started.statusCode, started.body).toBe(200);
      const { position } = started.json();
      expect(projections.checkpoint(INVENTORY)).toBeLessThan(position);

      // The projection lags: an eventual read answers what it has, the cached "stopped".
      expect((await get()).json().state).toBe('stopped');
      // A session read waits for the projection…
      let answered = false;
      const session = get({ 'x-novacron-after': String(position) }, '?consistency=session').then((r) => {
        answered = true;
        return r;
      });
      for (let i = 0; i < 50; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      expect(answered).toBe(false);
      // …and once the projection applies the start, the cached entry is gone: it answers "running".
      gate.open();
      const fresh = await session;
      expect(fresh.statusCode).toBe(200);
      expect(fresh.json()).toMatchObject({ state: 'running', revision: started.json().revision });
      expect((await get()).json().state).toBe('running');
    } finally {
      gate.open();
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
