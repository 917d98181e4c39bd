import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Counter, Gauge } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RecordedEvent, SubscribeOptions, Subscription } from '../../streams/eventstore/index.ts';
import { buildApp, type App } from '../app.ts';
import { loadJwtSecret } from '../auth/jwt-secret.ts';
import { signToken } from '../auth/tokens.ts';
import { loadConfig } from '../config.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { fleetApp, seedApi, type FleetApp } from '../testing/fleet-app.ts';
import { eventFeed } from './event-feed.ts';

// ---------------------------------------------------------------- SSE client

interface Message {
  id?: string;
  event?: string;
  data?: string;
  comments: string[];
  /** `data` parsed, once asked for. */
  parsed?: FeedEvent;
}

interface FeedEvent {
  streamId: string;
  revision: number;
  position: number;
  type: string;
  data: Record<string, unknown> | null;
  metadata: { tenantId: string | null; eventId: string };
}

/** A real HTTP client reading a text/event-stream with node:http and parsing its messages as they arrive. */
interface FeedClient {
  status: number;
  headers: IncomingHttpHeaders;
  messages: Message[];
  /** The parsed `data` of every message that carried an id (the events), in arrival order. */
  events(): FeedEvent[];
  /** Resolves once `condition` holds on what arrived (checked after every chunk); rejects if the stream ends first. */
  until(condition: () => boolean): Promise<void>;
  pause(): void;
  resume(): void;
  /** Hangs up. */
  close(): void;
  /** Resolves when the server ended or cut the stream. */
  ended: Promise<void>;
}

async function openFeed(base: string, path: string, headers: Record<string, string>): Promise<FeedClient> {
  const req = request(new URL(path, base), { headers: { accept: 'text/event-stream', ...headers } });
  req.end();
  const [response] = (await once(req, 'response')) as [IncomingMessage];
  response.setEncoding('utf8');
  const messages: Message[] = [];
  const checks = new Set<() => void>();
  let buffer = '';
  let done = false;
  const ended = new Promise<void>((resolve) => {
    const finish = () => {
      done = true;
      for (const check of checks) check();
      resolve();
    };
    response.once('end', finish);
    response.once('close', finish);
    response.once('error', finish);
  });
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message: Message = { comments: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) message.comments.push(line.slice(1).trim());
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event' || field === 'data') message[field] = value;
        }
      }
      messages.push(message);
    }
    for (const check of checks) check();
  });
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    messages,
    events: () => messages.filter((m) => m.id !== undefined).map((m) => (m.parsed ??= JSON.parse(m.data ?? 'null') as FeedEvent)),
    until: (condition) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (condition()) {
            checks.delete(check);
            resolve();
          } else if (done) {
            checks.delete(check);
            reject(new Error(`the feed ended first; ${messages.length} messages arrived`));
          }
        };
        checks.add(check);
        check();
      }),
    pause: () => response.pause(),
    resume: () => response.resume(),
    close: () => req.destroy(),
    ended,
  };
}

// ---------------------------------------------------------------- apps

/** Records the subscriptions the feed opens: the most they ever buffered, and whether they were stopped. */
function watchSubscriptions(platform: Platform) {
  const seen: Array<{ options: SubscribeOptions; subscription: Subscription; maxBuffered: number; stopped: Promise<void> }> = [];
  const original = platform.store.subscribeToAll.bind(platform.store);
  vi.spyOn(platform.store, 'subscribeToAll').mockImplementation((options = {}) => {
    const inner = original(options);
    let markStopped!: () => void;
    const record = { options, subscription: inner, maxBuffered: 0, stopped: new Promise<void>((resolve) => (markStopped = resolve)) };
    const wrapped: Subscription = {
      get position() {
        return inner.position;
      },
      get buffered() {
        return inner.buffered;
      },
      [Symbol.asyncIterator]() {
        const iterator = inner[Symbol.asyncIterator]();
        return {
          async next() {
            const result = await iterator.next();
            record.maxBuffered = Math.max(record.maxBuffered, inner.buffered);
            return result;
          },
          async return(value?: unknown) {
            return (await iterator.return?.(value)) ?? { done: true, value: undefined };
          },
          [Symbol.asyncIterator]() {
            return this;
          },
        } as AsyncIterableIterator<RecordedEvent>;
      },
      async stop() {
        await inner.stop();
        markStopped();
      },
    };
    record.subscription = wrapped;
    seen.push(record);
    return wrapped;
  });
  return seen;
}

interface FeedApp {
  app: App;
  platform: Platform;
  url: string;
  operator: Record<string, string>;
  tenant(tenantId: string): Record<string, string>;
  close(): Promise<void>;
}

/** Only the feed on an embedded platform (no projections running), listening on a free port. */
async function feedApp({ pageSize, heartbeatMs = 60_000 }: { pageSize: number; heartbeatMs?: number }): Promise<FeedApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'novacron-feed-'));
  const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal' });
  const platform = openPlatform(config);
  const app = buildApp({
    platform,
    config,
    logger: false,
    tenantExists: async () => true,
    extraPlugins: [eventFeed({ store: platform.store, catalog: platform.catalog, heartbeatMs, pageSize })],
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const secret = loadJwtSecret({ value: config.jwtSecret, dataDir });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return {
    app,
    platform,
    url,
    operator: bearer(signToken(secret, { subject: 'op', role: 'operator', ttlSeconds: 600 })),
    tenant: (tenantId) => bearer(signToken(secret, { subject: 'u', role: 'tenant-user', tenantId, ttlSeconds: 600 })),
    async close() {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const metric = async (app: App, name: string): Promise<number> => {
  const found = app.metrics.registry.getSingleMetric(name) as Gauge | Counter | undefined;
  return (await found?.get())?.values[0]?.value ?? Number.NaN;
};

/** `count` TenantSuspended events of ~`bytes` each on tenant-<tenantId>. */
async function appendBulky(platform: Platform, tenantId: string, count: number, bytes: number): Promise<number> {
  const reason = 'x'.repeat(bytes);
  let head = 0;
  for (let i = 0; i < count; i += 10) {
    const events = Array.from({ length: Math.min(10, count - i) }, () => ({ type: 'TenantSuspended', data: { tenantId, reason }, metadata: { tenantId } }));
    head = (await platform.store.append(`tenant-${tenantId}`, events, { expectedRevision: 'any' })).position;
  }
  return head;
}

const positions = (events: readonly { position: number }[]) => events.map((e) => e.position);

let fleet: FleetApp | undefined;
let feeds: FeedApp | undefined;
const clients: FeedClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  vi.restoreAllMocks();
  await fleet?.close();
  await feeds?.close();
  fleet = undefined;
  feeds = undefined;
});

async function listen(f: FleetApp): Promise<string> {
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
}

async function open(base: string, path: string, headers: Record<string, string>): Promise<FeedClient> {
  const client = await openFeed(base, path, headers);
  clients.push(client);
  return client;
}

// ---------------------------------------------------------------- tests

describe('GET /v1/events, tenant-scoped', () => {
  const vmBody = { name: 'web', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12' };

  it("delivers every event of a tenant once, in order, across a reconnect with Last-Event-ID, and nothing of another tenant's", async () => {
    fleet = await fleetApp();
    const f = fleet;
    await seedApi(f, { nodes: 1 });
    const base = await listen(f);
    const acme = f.tenant('acme', 'tenant-user');
    const acmeVms = new Set<string>();
    const globexVms = new Set<string>();
    const createVm = async (tenant: 'acme' | 'globex', extra: object = {}) => {
      const answer = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: f.tenant(tenant), payload: { ...vmBody, ...extra } });
      expect(answer.statusCode).toBe(201);
      const vm = answer.json<{ id: string }>();
      (tenant === 'acme' ? acmeVms : globexVms).add(`vm-${vm.id}`);
      return vm.id;
    };
    const acmeVm = await createVm('acme', { sshPublicKeys: ['ssh-ed25519 AAAAC3Nz acme'], userData: '#cloud-config\n' });
    const globexVm = await createVm('globex');

    // What acme owns, decided here independently of the feed: its tenant stream and its VMs' streams.
    const owned = (e: RecordedEvent) => e.streamId === 'tenant-acme' || acmeVms.has(e.streamId);
    const expected = async () => (await f.platform.store.readAll()).filter(owned);

    const first = await open(base, '/v1/events', acme);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(first.headers['cache-control']).toBe('no-cache, no-transform');
    const before = await expected();
    await first.until(() => first.events().length >= before.length);
    first.close();
    const seenFirst = first.events();
    expect(positions(seenFirst)).toEqual(positions(before));

    // While acme is away: more of its events and of globex's, and a node failure that fails both VMs
    // (VmFailed is recorded without a tenant id: the VM's stream says whose it is).
    await f.setup('POST', `/v1/vms/${acmeVm}/start`);
    await f.setup('POST', `/v1/vms/${globexVm}/start`);
    await createVm('acme');
    await createVm('globex');
    await f.setup('POST', '/v1/tenants/globex/suspend', { reason: 'unpaid' });
    await f.setup('POST', '/v1/nodes/euw-n0/fail', { reason: 'power' });

    // Last-Event-ID wins over ?from (from=0 would repeat everything).
    const lastId = first.messages.filter((m) => m.id !== undefined).at(-1)?.id ?? '0';
    const second = await open(base, '/v1/events?from=0', { ...acme, 'last-event-id': lastId });
    const all = await expected();
    await second.until(() => seenFirst.length + second.events().length >= all.length);
    const delivered = [...seenFirst, ...second.events()];
    expect(positions(delivered)).toEqual(positions(all));
    expect(new Set(delivered.map((e) => e.metadata.eventId)).size).toBe(delivered.length);

    // Nothing of globex's, nor of the fleet's; acme's saga events are there, attributed to acme.
    expect(delivered.filter((e) => e.streamId === 'tenant-globex' || globexVms.has(e.streamId) || e.metadata.tenantId === 'globex')).toEqual([]);
    expect(delivered.filter((e) => /^(node|region|cluster|forecast)-/.test(e.streamId))).toEqual([]);
    expect(delivered.some((e) => e.type === 'QuotaReserved' && e.metadata.tenantId === 'acme')).toBe(true);
    expect(delivered.filter((e) => e.type === 'VmFailed').map((e) => e.streamId).sort()).toEqual([...acmeVms].sort());

    // Each message: id = position, event = type, data = the event; a tenant reads its own personal data.
    const message = second.messages.find((m) => m.id !== undefined);
    const parsed = JSON.parse(message?.data ?? '{}') as FeedEvent;
    expect(message).toMatchObject({ id: String(parsed.position), event: parsed.type });
    expect(Object.keys(parsed).sort()).toEqual(['data', 'metadata', 'position', 'revision', 'streamId', 'type']);
    expect(delivered.find((e) => e.type === 'TenantCreated')?.data).toMatchObject({ tenantId: 'acme', contactEmail: 'ops@acme.example' });
    expect(delivered.find((e) => e.type === 'VmCreated')?.data).toMatchObject({ sshPublicKeys: ['ssh-ed25519 AAAAC3Nz acme'], userData: '#cloud-config\n' });
  });

  it('filters by category and type (repeated or comma-separated); operators see every event with personal fields redacted', async () => {
    fleet = await fleetApp();
    const f = fleet;
    await seedApi(f, { nodes: 1 });
    const base = await listen(f);
    const vm = (await f.app.inject({ method: 'POST', url: '/v1/vms', headers: f.tenant('acme'), payload: { ...vmBody, userData: 'secret' } })).json<{ id: string }>();
    await f.setup('POST', `/v1/vms/${vm.id}/start`);
    const log = await f.platform.store.readAll();
    const expectFeed = async (path: string, headers: Record<string, string>, want: (e: RecordedEvent) => boolean) => {
      const expected = log.filter(want);
      expect(expected.length).toBeGreaterThan(0);
      const client = await open(base, path, headers);
      expect(client.status).toBe(200);
      await client.until(() => client.events().length >= expected.length);
      client.close();
      expect(positions(client.events())).toEqual(positions(expected));
      return client.events();
    };

    const categories = new Set(['tenant', 'region']);
    await expectFeed('/v1/events?category=tenant&category=region', f.operator, (e) => categories.has(e.streamId.split('-')[0] ?? ''));
    await expectFeed('/v1/events?category=tenant,region', f.operator, (e) => categories.has(e.streamId.split('-')[0] ?? ''));
    await expectFeed('/v1/events?type=VmCreated,VmStarted&type=NodeRegistered', f.operator, (e) => ['VmCreated', 'VmStarted', 'NodeRegistered'].includes(e.type));
    const vmOnly = await expectFeed('/v1/events?category=vm&type=VmCreated', f.tenant('acme'), (e) => e.type === 'VmCreated' && e.streamId === `vm-${vm.id}`);
    expect(vmOnly[0]?.data).toMatchObject({ userData: 'secret' });

    // Operators: everything, personal fields as [redacted], the rest intact.
    const everything = await expectFeed(`/v1/events?from=${(log[1]?.position ?? 0) - 1}`, f.operator, (e) => e.position >= (log[1]?.position ?? 0));
    expect(everything.find((e) => e.type === 'VmCreated')?.data).toMatchObject({ vmId: vm.id, tenantId: 'acme', userData: '[redacted]', sshPublicKeys: [] });
    expect(everything.filter((e) => e.type === 'TenantCreated').map((e) => e.data?.contactEmail)).toEqual(['[redacted]', '[redacted]']);

    // Filters that name nothing that exists are refused rather than silently matching nothing.
    for (const [url, field] of [
      ['/v1/events?type=VmCreatd', 'type'],
      ['/v1/events?category=Vm', 'category'],
      ['/v1/events?from=-1', 'from'],
    ] as const) {
      const answer = await f.app.inject({ url, headers: f.operator });
      expect(answer.statusCode, url).toBe(400);
      expect(answer.json().error).toMatchObject({ code: 'NC_VALIDATION', details: { field } });
    }
    const badId = await f.app.inject({ url: '/v1/events', headers: { ...f.operator, 'last-event-id': 'abc' } });
    expect(badId.json().error).toMatchObject({ code: 'NC_VALIDATION', details: { location: 'headers', field: 'last-event-id' } });
    expect((await f.app.inject({ url: '/v1/events' })).json().error.code).toBe('NC_UNAUTHENTICATED');
  });
});

describe('GET /v1/events, who did it', () => {
  it("tenants see an operator's action as done by the role 'operator', never the operator's user name; operators see it in full", async () => {
    fleet = await fleetApp();
    const f = fleet;
    await seedApi(f, { nodes: 1 });
    await f.app.inject({ method: 'POST', url: '/v1/tenants/acme/suspend', headers: f.operator });
    await f.app.inject({ method: 'POST', url: '/v1/tenants/acme/reactivate', headers: f.tenant('acme') }); // refused for a tenant: not in the log
    const base = await listen(f);
    const logged = (await f.platform.store.readStream('tenant-acme')).map((e) => e.metadata.actor);
    expect(logged).toContain('operator:op');
    const client = await open(base, '/v1/events?category=tenant', f.tenant('acme', 'tenant-user'));
    await client.until(() => client.events().length >= logged.length);
    client.close();
    const actors = client.events().map((e) => (e.metadata as { actor?: string }).actor);
    expect(actors.length).toBe(logged.length);
    expect(actors.every((actor) => actor === 'operator' || actor?.startsWith('tenant:acme:'))).toBe(true);
    expect(JSON.stringify(client.messages)).not.toContain('operator:op');
    const operator = await open(base, '/v1/events?category=tenant', f.operator);
    await operator.until(() => operator.events().some((e) => (e.metadata as { actor?: string }).actor === 'operator:op'));
    operator.close();
  });
});

describe('GET /v1/events, the audit trail', () => {
  it("does not show a tenant its audit events (its admins read them at /v1/tenants/{id}/audit); operators see them", async () => {
    fleet = await fleetApp();
    const f = fleet;
    await seedApi(f, { nodes: 1 });
    const created = await f.app.inject({ method: 'POST', url: '/v1/tenants/acme/api-keys', headers: f.operator, payload: { role: 'tenant-user' } });
    expect(created.statusCode).toBe(201);
    await f.app.inject({ method: 'POST', url: '/v1/tenants/acme/suspend', headers: f.operator });
    const base = await listen(f);
    const suspendedAt = (await f.platform.store.readStream('tenant-acme')).at(-1)!.position;
    const tenant = await open(base, '/v1/events', f.tenant('acme', 'tenant-admin'));
    await tenant.until(() => tenant.events().some((e) => e.position === suspendedAt));
    tenant.close();
    expect(tenant.events().map((e) => e.type)).not.toContain('AuditRecorded');
    const operator = await open(base, '/v1/events', f.operator);
    await operator.until(() => operator.events().some((e) => e.type === 'AuditRecorded'));
    operator.close();
  });
});

describe('GET /v1/events, connection handling', () => {
  it('a client that stops reading makes the feed wait for drain; the subscription never holds more than a page', async () => {
    const pageSize = 8;
    feeds = await feedApp({ pageSize });
    const f = feeds;
    const subscriptions = watchSubscriptions(f.platform);
    // ~40 MB, far more than the sockets' buffers hold.
    const head = await appendBulky(f.platform, 'slowco', 160, 256 * 1024);

    const client = await open(f.url, '/v1/events?type=TenantSuspended', f.operator);
    await client.until(() => client.events().length >= 1);
    client.pause();
    await vi.waitFor(async () => expect(await metric(f.app, 'novacron_event_feed_stalls_total')).toBeGreaterThanOrEqual(1), { timeout: 10_000 });

    const [feed] = subscriptions;
    expect(feed?.options).toMatchObject({ afterPosition: 0, batchSize: pageSize, filter: { eventTypes: ['TenantSuspended'] } });
    // Stalled well before the end of the log: nothing was read ahead of the client.
    expect(feed?.subscription.position).toBeLessThan(head);
    expect(feed?.subscription.buffered).toBeLessThanOrEqual(pageSize);

    client.resume();
    await client.until(() => client.events().length >= 160);
    expect(client.events().map((e) => e.position)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
    expect(feed?.maxBuffered).toBeLessThanOrEqual(pageSize);
  }, 60_000);

  it('sends heartbeats while idle, and stops the subscription when the client disconnects', async () => {
    feeds = await feedApp({ pageSize: 16, heartbeatMs: 100 });
    const f = feeds;
    const subscriptions = watchSubscriptions(f.platform);
    const client = await open(f.url, '/v1/events', f.tenant('acme'));
    await client.until(() => client.messages.filter((m) => m.comments.includes('ping')).length >= 2);
    expect(await metric(f.app, 'novacron_event_feeds_open')).toBe(1);

    client.close();
    await subscriptions[0]?.stopped;
    await vi.waitFor(async () => expect(await metric(f.app, 'novacron_event_feeds_open')).toBe(0));
  });

  it('shutdown ends open feeds, idle or stalled, at once', async () => {
    feeds = await feedApp({ pageSize: 8 });
    const f = feeds;
    const subscriptions = watchSubscriptions(f.platform);
    const head = await appendBulky(f.platform, 'slowco', 160, 256 * 1024);
    const idle = await open(f.url, `/v1/events?from=${head}`, f.operator);
    await idle.until(() => idle.messages.length >= 1);
    const stalled = await open(f.url, '/v1/events', f.operator);
    await stalled.until(() => stalled.events().length >= 1);
    stalled.pause();
    await vi.waitFor(async () => expect(await metric(f.app, 'novacron_event_feed_stalls_total')).toBeGreaterThanOrEqual(1), { timeout: 10_000 });

    const started = performance.now();
    await f.app.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    await Promise.all(subscriptions.map((s) => s.stopped));
    await idle.ended;
    // The stalled client was cut off: once it reads again it finds the end of the stream, not the rest of the log.
    stalled.resume();
    await stalled.ended;
    expect(stalled.events().length).toBeLessThan(160);
  }, 60_000);
});
