import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AUDIT_ACTIONS, AUDIT_CATEGORIES, auditRecordOf, auditStreamOf, recordAudit, type AuditEntry, type AuditRecord } from '../../commands/audit/audit-log.ts';
import { streamOf } from '../../commands/fleet/aggregates.ts';
import type { EventStore, RecordedEvent } from '../../streams/eventstore/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import { continueTrace } from '../../streams/eventstore/index.ts';
import type { RoutePlugin } from '../app.ts';
import { actorOf } from '../auth/principal.ts';
import { assertTenantAccess, principalOf, requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { TenantId } from '../http/params.ts';

/** Records an audit entry for what this request did: its principal as actor, its address as source. */
export type AuditRequest = (request: FastifyRequest, entry: Omit<AuditEntry, 'source'>) => Promise<void>;

export const requestAuditor =
  (store: EventStore): AuditRequest =>
  async (request, entry) => {
    await recordAudit(store, { ...entry, source: request.ip }, {
      actor: actorOf(principalOf(request)),
      correlationId: request.id,
      now: new Date(),
      traceparent: continueTrace(request.headers.traceparent),
    });
  };

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
/** A cursor is the position (fleet-wide list) or revision (a tenant's) to continue before. */
const CURSOR = '^(0|[1-9][0-9]{0,15})$';

const AuditItem = Type.Object(
  {
    action: Type.Enum([...AUDIT_ACTIONS]),
    tenantId: Type.Union([Type.String(), Type.Null()]),
    target: Type.String(),
    source: Type.Union([Type.String(), Type.Null()], { description: "The client's address, or cli@<host> for the command line." }),
    details: Type.Union([Type.String(), Type.Null()]),
    actor: Type.String({ description: 'operator:<name> or tenant:<id>:<name>; a tenant reading its trail sees operator (and no source) for every operator.' }),
    occurredAt: Type.String({ format: 'date-time' }),
    correlationId: Type.String(),
    position: Type.Integer({ description: "The event's position in the log." }),
  },
  { additionalProperties: false },
);
const Page = Type.Object({ items: Type.Array(AuditItem), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false });
const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ pattern: CURSOR, description: 'The nextCursor of the previous page, as it is.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: `Entries per page, newest first (default ${DEFAULT_LIMIT}).` })),
  },
  { additionalProperties: false },
);

/** A tenant sees that an operator acted, not which one nor from where (as in the event feed). */
const shownTo = (reader: 'operator' | 'tenant', record: AuditRecord): AuditRecord =>
  reader === 'tenant' && record.actor.startsWith('operator:') ? { ...record, actor: 'operator', source: null } : record;

const auditEvents = (events: readonly RecordedEvent[]) => events.filter((e) => e.type === 'AuditRecorded');

/**
 * The audit trail: GET /v1/tenants/:id/audit (operators, and the tenant's own
 * admins) and GET /v1/audit (operators: every tenant's and the fleet's),
 * newest first, read from the log.
 */
export const auditRoutes =
  ({ store }: { store: EventStore }): RoutePlugin =>
  async (app) => {
    app.get('/v1/tenants/:id/audit', {
      onRequest: requireRoles('operator', 'tenant-admin'),
      schema: {
        tags: ['audit'],
        summary: "A tenant's audit trail: who created or revoked its credentials, deleted it, rotated its key, from where and when",
        params: Type.Object({ id: TenantId }, { additionalProperties: false }),
        querystring: PageQuery,
        response: { 200: Page, ...errorResponses(400, 401, 403, 404) },
      },
    }, async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      assertTenantAccess(principal, id, { entity: 'tenant', id });
      const limit = request.query.limit ?? DEFAULT_LIMIT;
      const before = request.query.cursor === undefined ? undefined : Number(request.query.cursor);
      if (before === 0) return { items: [], nextCursor: null };
      const events = await store.readStream(auditStreamOf(id), {
        direction: 'backwards',
        fromRevision: before === undefined ? 'end' : before - 1,
        maxCount: limit,
      });
      if (events.length === 0 && before === undefined && (await store.streamState(streamOf.tenant(id))).status === 'none') {
        throw new NovaCronError('NC_NOT_FOUND', `tenant ${id} does not exist`, { details: { entity: 'tenant', id } });
      }
      const reader = principal.role === 'operator' ? 'operator' : 'tenant';
      const last = events.at(-1);
      return {
        items: auditEvents(events).map((e) => shownTo(reader, auditRecordOf(e))),
        nextCursor: events.length === limit && last !== undefined && last.revision > 0 ? String(last.revision) : null,
      };
    });

    app.get('/v1/audit', {
      onRequest: requireRoles('operator'),
      schema: {
        tags: ['audit'],
        summary: "The whole audit trail: every tenant's and the fleet's (replays, master key rotations)",
        querystring: PageQuery,
        response: { 200: Page, ...errorResponses(400, 401, 403) },
      },
    }, async (request) => {
      const limit = request.query.limit ?? DEFAULT_LIMIT;
      const before = request.query.cursor === undefined ? undefined : Number(request.query.cursor);
      if (before === 0 || before === 1) return { items: [], nextCursor: null };
      const events = await store.readAll({
        direction: 'backwards',
        fromPosition: before === undefined ? 'end' : before - 1,
        maxCount: limit,
        filter: { categories: AUDIT_CATEGORIES },
      });
      const last = events.at(-1);
      return {
        items: auditEvents(events).map((e) => auditRecordOf(e)),
        nextCursor: events.length === limit && last !== undefined && last.position > 1 ? String(last.position) : null,
      };
    });
  };
