import type { OutgoingHttpHeaders } from 'node:http';
import { Counter, Gauge } from 'prom-client';
import { Type } from 'typebox';
import { createOwnership, eventFrame, pumpFeed, redactPersonal, type FeedMessage } from '../../connectors/feed/index.ts';
import type { Catalog } from '../../streams/catalog/index.ts';
import type { EventStore, RecordedEvent } from '../../streams/eventstore/index.ts';
import { isNovaCronError, NovaCronError } from '../../streams/errors/index.ts';
import type { RoutePlugin } from '../app.ts';
import { principalOf, requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';

export interface EventFeedDeps {
  store: EventStore;
  /** Knows each event type's personal fields (redacted for operators). */
  catalog: Catalog;
  /** NOVACRON_FEED_HEARTBEAT_MS. */
  heartbeatMs: number;
  /** NOVACRON_FEED_MAX_PER_TENANT: a tenant's feeds open at once here; one more answers 429 NC_RATE_LIMITED (operators are not limited). */
  maxPerTenant?: number;
  /** Events read from the store per page: the most a feed holds in memory besides the frame being written. */
  pageSize?: number;
}

const CATEGORY = '[a-z][a-z0-9]{0,31}';
const TYPE = '[A-Za-z][A-Za-z0-9]{0,99}';
const commaList = (item: string) => `^${item}(,${item})*$`;
const listOf = (item: string, description: string) =>
  Type.Optional(
    Type.Union([Type.String({ pattern: commaList(item) }), Type.Array(Type.String({ pattern: commaList(item) }), { maxItems: 64 })], { description }),
  );

/** `?category=vm&category=tenant` or `?category=vm,tenant` → ['vm', 'tenant']; undefined when not given. */
const splitList = (value: string | string[] | undefined): string[] | undefined =>
  value === undefined ? undefined : [...new Set((Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')))];

const SSE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  // Nothing between the client and the feed may cache or hold back the stream (X-Accel-Buffering: nginx).
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * GET /v1/events: the event log as Server-Sent Events, for subscribers without
 * Kafka. Each feed is one catch-up subscription copied to the client with
 * back-pressure (see `pumpFeed`); tenant tokens see only their tenant's events,
 * operators see every event with personal fields redacted. Open feeds are
 * tracked and ended when the app closes, so shutdown never waits on them.
 */
export const eventFeed =
  ({ store, catalog, heartbeatMs, maxPerTenant = Number.POSITIVE_INFINITY, pageSize = 256 }: EventFeedDeps): RoutePlugin =>
  async (app) => {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('eventFeed: pageSize must be a positive integer');
    if (!Number.isInteger(heartbeatMs) || heartbeatMs < 1) throw new RangeError('eventFeed: heartbeatMs must be a positive integer');
    const ownership = createOwnership({ store });
    const open = new Set<{ abort: AbortController; done: Promise<void> }>();
    const openPerTenant = new Map<string, number>();
    let closing = false;

    const feedsOpen = new Gauge({ name: 'novacron_event_feeds_open', help: 'Open GET /v1/events feeds.', registers: [app.metrics.registry] });
    const stalls = new Counter({
      name: 'novacron_event_feed_stalls_total',
      help: 'Writes to an event feed that waited for a slow client to drain its connection.',
      registers: [app.metrics.registry],
    });

    app.addHook('preClose', async () => {
      closing = true;
      for (const feed of open) feed.abort.abort();
      await Promise.all([...open].map((feed) => feed.done));
    });

    app.get('/v1/events', {
      onRequest: requireRoles('operator', 'tenant-admin', 'tenant-user'),
      schema: {
        tags: ['events'],
        summary: 'The event log as Server-Sent Events, from a position, filtered by category and type',
        description:
          'Each message is `id: <position>`, `event: <type>`, `data: {streamId, revision, position, type, data, metadata}`; `: ping` comments keep the connection alive ' +
          '(NOVACRON_FEED_HEARTBEAT_MS). Resume after the last position seen with `Last-Event-ID` (wins over `from`). Tenant roles get only their own tenant\'s events, ' +
          'personal data decrypted; operators get every event, personal fields read `[redacted]`.',
        querystring: Type.Object(
          {
            from: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Exclusive: events after this global position (default 0, from the start).' })),
            category: listOf(CATEGORY, 'Stream categories (tenant, vm, node, region, cluster, forecast), repeated or comma-separated.'),
            type: listOf(TYPE, 'Event types (e.g. VmCreated), repeated or comma-separated.'),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({
          'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'The id of the last message received; the feed resumes after it (wins over `from`).' })),
        }),
        response: {
          200: {
            description: 'A text/event-stream that stays open until the client leaves or the server shuts down.',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses(400, 401, 403, 429, 503),
        },
      },
    }, async (request, reply) => {
      if (closing) throw new NovaCronError('NC_SHUTTING_DOWN', 'this instance is shutting down; reconnect with Last-Event-ID, another instance will answer');
      const principal = principalOf(request);
      const lastEventId = request.headers['last-event-id'];
      const afterPosition = typeof lastEventId === 'string' ? Number(lastEventId) : (request.query.from ?? 0);
      const categories = splitList(request.query.category);
      const types = splitList(request.query.type);
      const unknown = types?.filter((type) => !catalog.has(type)) ?? [];
      if (unknown.length > 0) {
        throw new NovaCronError('NC_VALIDATION', `querystring.type names event types that are not in the catalog: ${unknown.join(', ')}`, {
          details: { location: 'querystring', field: 'type', errors: unknown.map(() => ({ field: 'type', message: 'is not an event type of the catalog' })) },
        });
      }
      const tenantId = principal.role === 'operator' ? null : principal.tenantId;
      if (principal.role !== 'operator' && tenantId === null) throw new NovaCronError('NC_FORBIDDEN', 'a tenant role without a tenant sees no events');
      // HEAD: the headers a GET would get, and no stream (it would never end).
      if (request.method === 'HEAD') return reply.code(200).headers(SSE_HEADERS).send('');

      const render = async (event: RecordedEvent): Promise<string | null> => {
        if (tenantId !== null && (await ownership.ownerOf(event)) !== tenantId) return null;
        // A tenant's audit trail is for its admins, at GET /v1/tenants/{id}/audit (with operators' names and addresses withheld).
        if (tenantId !== null && event.type === 'AuditRecorded') return null;
        const { streamId, revision, position, type, metadata } = event;
        // A tenant sees that an operator acted, not which one (their user names stay inside the operations team).
        const shown = tenantId !== null && metadata.actor.startsWith('operator:') ? { ...metadata, actor: 'operator' } : metadata;
        const message: FeedMessage = { streamId, revision, position, type, data: null, metadata: shown };
        try {
          // The store decrypts personal fields: a tenant reads its own; operators never see them.
          message.data = tenantId === null ? redactPersonal(catalog, type, event.data) : event.data;
        } catch (error) {
          const code = isNovaCronError(error) ? error.code : 'NC_INTERNAL';
          request.log.error({ err: error, position, streamId }, 'event feed: the data of an event cannot be read; delivered without it');
          message.dataError = { code };
        }
        return eventFrame(message);
      };

      if (tenantId !== null) {
        const count = openPerTenant.get(tenantId) ?? 0;
        if (count >= maxPerTenant) {
          throw new NovaCronError('NC_RATE_LIMITED', `tenant ${tenantId} already has ${count} event feeds open here (NOVACRON_FEED_MAX_PER_TENANT); close one, or retry later`, {
            retriable: true,
            details: { key: `feeds:tenant:${tenantId}`, limit: maxPerTenant, retryAfterSeconds: 5 },
          });
        }
        openPerTenant.set(tenantId, count + 1);
      }
      const release = () => {
        if (tenantId === null) return;
        const left = (openPerTenant.get(tenantId) ?? 1) - 1;
        if (left > 0) openPerTenant.set(tenantId, left);
        else openPerTenant.delete(tenantId);
      };

      const subscription = store.subscribeToAll({
        afterPosition,
        batchSize: pageSize,
        ...(categories || types ? { filter: { ...(categories ? { categories } : {}), ...(types ? { eventTypes: types } : {}) } } : {}),
      });
      const abort = new AbortController();
      const raw = reply.raw;
      let finished!: () => void;
      const feed = { abort, done: new Promise<void>((resolve) => (finished = resolve)) };
      open.add(feed);
      feedsOpen.inc();

      reply.hijack();
      // The connection serves this feed only: once it ends, the socket closes (nothing idles on it during shutdown).
      raw.shouldKeepAlive = false;
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
      raw.writeHead(200, { ...headers, ...SSE_HEADERS });
      raw.write(': connected\n\n');
      try {
        await pumpFeed({ subscription, out: raw, render, heartbeatMs, signal: abort.signal, onStall: () => stalls.inc(), yieldEvery: pageSize });
      } catch (error) {
        request.log.warn({ err: error }, 'event feed ended: the subscription failed; the client may reconnect with Last-Event-ID');
      } finally {
        // A client that stopped reading would hold a graceful end (and shutdown) forever: cut it off instead.
        if (raw.writableNeedDrain) raw.destroy();
        else if (!raw.writableEnded && !raw.destroyed) raw.end();
        open.delete(feed);
        release();
        feedsOpen.dec();
        finished();
      }
    });
  };
