import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

const description = `The HTTP API of NovaCron, the event-sourced control plane of a fleet of VMs.

**Auth**: every route under /v1 needs \`Authorization: Bearer <JWT>\` (\`npx novacron token --role operator\`)
or \`X-API-Key: nck_…\` (created by an operator with POST /v1/tenants/{id}/api-keys).

**Errors** are \`{ "error": { "code", "message", "details"? } }\` with a stable code (NC_…); 503 and 429 carry Retry-After.

**Idempotency-Key** (1–255 visible ASCII characters) on POST, PUT, PATCH and DELETE: a retry with the same key
gets the first answer again (header \`Idempotent-Replayed: true\`); the same key on another request is 422
NC_IDEMPOTENCY_KEY_REUSED. Keys are kept 24 hours (NOVACRON_IDEMPOTENCY_TTL_HOURS).

Every answer carries \`X-Correlation-Id\` (yours, or a new UUIDv7).`;

/**
 * The OpenAPI 3 document, built from the routes' schemas (@fastify/swagger, so
 * it must be registered before the routes), and Swagger UI at /docs.
 */
export const openApi = fp<{ version: string }>(
  async (app, { version }) => {
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'NovaCron API', version, description },
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'JWT with sub, role and tenantId claims' },
            apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A tenant API key: nck_<id>_<secret>' },
          },
        },
        security: [{ bearerAuth: [] }, { apiKey: [] }],
        tags: [
          { name: 'ops', description: 'Health, readiness and metrics (no auth)' },
          { name: 'auth', description: 'API keys' },
        ],
      },
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  },
  { name: 'novacron-openapi' },
);
