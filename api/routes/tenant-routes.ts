import { Type } from 'typebox';
import type { FleetService } from '../../commands/fleet/service.ts';
import type { Tenant } from '../../commands/tenant/state.ts';
import type { RoutePlugin } from '../app.ts';
import { requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { TenantId } from '../http/params.ts';
import type { AuditRequest } from './audit-routes.ts';
import { commandContext } from './command-context.ts';
import { NoBody, optionalBody } from './optional-body.ts';
import { Id, QuotaSchema, Recorded, recorded, TenantView, tenantView } from './views.ts';

const operator = requireRoles('operator');
const Params = Type.Object({ id: TenantId }, { additionalProperties: false });

/** Tenants: created and governed by operators (reads, a tenant reading itself included: inventory-queries.ts). */
export const tenantRoutes =
  (fleet: FleetService, audit: AuditRequest): RoutePlugin =>
  async (app) => {
    const Answer = Type.Object({ ...Recorded, tenant: TenantView });

    app.post('/v1/tenants', {
      onRequest: operator,
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant',
        body: Type.Object(
          {
            id: Id,
            name: Type.String({ minLength: 1, maxLength: 255 }),
            contactEmail: Type.Optional(Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$', description: 'Personal data: stored encrypted with the tenant key.' })),
            quota: QuotaSchema,
            allowedRegions: Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true, description: 'Regions the tenant may use (data residency).' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Answer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request, reply) => {
      const { id, contactEmail, ...rest } = request.body;
      const outcome = await fleet.createTenant(commandContext(request), { tenantId: id, contactEmail: contactEmail ?? null, ...rest });
      return reply.code(201).send({ ...recorded(outcome), tenant: tenantView(outcome.state as Tenant) });
    });

    app.put('/v1/tenants/:id/quota', {
      onRequest: operator,
      schema: {
        tags: ['tenants'],
        summary: "Change a tenant's quota (never below what it uses and reserves)",
        params: Params,
        body: QuotaSchema,
        response: { 200: Answer, ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    }, async (request) => {
      const outcome = await fleet.execute('tenant', request.params.id, { type: 'ChangeTenantQuota', data: { tenantId: request.params.id, quota: request.body } }, commandContext(request));
      return { ...recorded(outcome), tenant: tenantView(outcome.state as Tenant) };
    });

    app.post('/v1/tenants/:id/:action', {
      onRequest: operator,
      preValidation: optionalBody,
      schema: {
        tags: ['tenants'],
        summary: 'suspend (starts and creations refused) | reactivate',
        params: Type.Object({ id: TenantId, action: Type.Union([Type.Literal('suspend'), Type.Literal('reactivate')]) }, { additionalProperties: false }),
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })) }, { additionalProperties: false })),
        response: { 200: Answer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      const { id, action } = request.params;
      const outcome =
        action === 'suspend'
          ? await fleet.execute('tenant', id, { type: 'SuspendTenant', data: { tenantId: id, reason: request.body?.reason ?? null } }, commandContext(request))
          : await fleet.execute('tenant', id, { type: 'ReactivateTenant', data: { tenantId: id } }, commandContext(request));
      return { ...recorded(outcome), tenant: tenantView(outcome.state as Tenant) };
    });

    app.delete('/v1/tenants/:id', {
      onRequest: operator,
      preValidation: optionalBody,
      schema: {
        body: NoBody,
        tags: ['tenants'],
        summary: 'Delete a tenant (only without VMs); its data key is destroyed, so its personal data becomes unreadable',
        params: Params,
        response: { 200: Answer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      const outcome = await fleet.deleteTenant(commandContext(request), request.params.id);
      await audit(request, { action: 'tenant.deleted', tenantId: request.params.id, target: request.params.id });
      return { ...recorded(outcome), tenant: tenantView(outcome.state as Tenant) };
    });
  };
