import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NoBody, optionalBody } from '../routes/optional-body.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import { errorResponses } from '../http/error-schema.ts';
import { TenantId } from '../http/params.ts';
import type { AuditRequest } from '../routes/audit-routes.ts';
import type { ApiKeyStore } from './api-keys.ts';
import { principalOf, requireRoles } from './guards.ts';

export interface ApiKeyRoutesOptions {
  apiKeys: ApiKeyStore;
  tenantExists: (tenantId: string) => Promise<boolean>;
  /** Records the creation and the revocation of a key in the tenant's audit trail. */
  audit: AuditRequest;
}

const ApiKeyRole = Type.Enum(['tenant-admin', 'tenant-user'], { description: 'Role the key acts with, for its tenant only.' });
const ApiKeyId = Type.String({ pattern: '^[0-9a-f]{16}$', description: 'The id part of the key (nck_<id>_<secret>).' });

const ApiKey = Type.Object(
  {
    id: ApiKeyId,
    tenantId: Type.String(),
    role: ApiKeyRole,
    name: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false, description: 'The key, now revoked' },
);

const CreatedApiKey = Type.Object(
  {
    id: ApiKeyId,
    key: Type.String({ description: 'The key to send as X-API-Key. Shown only in this answer: NovaCron stores only its hash.' }),
    tenantId: Type.String(),
    role: ApiKeyRole,
    name: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, description: 'The key was created; keep `key` now, it is never shown again' },
);

/**
 * API keys for tenants' automation, created and revoked by operators:
 * POST /v1/tenants/:id/api-keys and DELETE /v1/api-keys/:id.
 */
export const apiKeyRoutes: FastifyPluginAsyncTypebox<ApiKeyRoutesOptions> = async (app, { apiKeys, tenantExists, audit }) => {
  app.post(
    '/v1/tenants/:id/api-keys',
    {
      onRequest: requireRoles('operator'),
      schema: {
        summary: 'Create an API key for a tenant (the key is shown once)',
        tags: ['auth'],
        params: Type.Object({ id: TenantId }),
        body: Type.Object(
          {
            role: ApiKeyRole,
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A label, e.g. "ci-pipeline".' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedApiKey, ...errorResponses(400, 401, 403, 404, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const tenantId = request.params.id;
      if (!(await tenantExists(tenantId))) {
        throw new NovaCronError('NC_NOT_FOUND', `tenant ${tenantId} does not exist`, { details: { entity: 'tenant', id: tenantId } });
      }
      const created = apiKeys.create({ tenantId, role: request.body.role, name: request.body.name ?? null, createdBy: principalOf(request).subject });
      request.log.info({ apiKeyId: created.id, tenantId, role: created.role }, 'API key created');
      await audit(request, { action: 'api_key.created', tenantId, target: created.id, details: `role ${created.role}` });
      const { id, key, role, name, createdAt } = created;
      return reply.code(201).send({ id, key, tenantId, role, name, createdAt });
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      onRequest: requireRoles('operator'),
      preValidation: optionalBody,
      schema: {
        body: NoBody,
        summary: 'Revoke an API key (at once; revoking twice is harmless)',
        tags: ['auth'],
        params: Type.Object({ id: ApiKeyId }),
        response: { 200: ApiKey, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const wasLive = apiKeys.get(id)?.revokedAt === null;
      if (!apiKeys.revoke(id)) throw new NovaCronError('NC_NOT_FOUND', `api key ${id} does not exist`, { details: { entity: 'api key', id } });
      const record = apiKeys.get(id);
      if (record === null) throw new NovaCronError('NC_NOT_FOUND', `api key ${id} does not exist`, { details: { entity: 'api key', id } });
      request.log.info({ apiKeyId: id, tenantId: record.tenantId }, 'API key revoked');
      // Revoking twice is harmless, and recorded once.
      if (wasLive) await audit(request, { action: 'api_key.revoked', tenantId: record.tenantId, target: id, details: `role ${record.role}` });
      return record;
    },
  );
};
