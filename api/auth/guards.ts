import type { FastifyRequest } from 'fastify';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { Principal, Role } from './principal.ts';

/** The request's principal; 401 when there is none (a route outside /v1 asked for one). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new NovaCronError('NC_UNAUTHENTICATED', 'authentication required: send Authorization: Bearer <JWT> or X-API-Key: <key>');
  return request.principal;
}

/**
 * A route hook letting only these roles through: 401 NC_UNAUTHENTICATED
 * without a principal, 403 NC_FORBIDDEN for another role. Use it as the route's
 * `onRequest` (checked before the body is parsed and validated, so a forbidden
 * caller learns nothing about the body's shape) or `preHandler`.
 *
 *   app.post('/v1/nodes', { onRequest: requireRoles('operator'), schema }, handler)
 */
export function requireRoles(...roles: Role[]): (request: FastifyRequest) => Promise<void> {
  if (roles.length === 0) throw new RangeError('requireRoles needs at least one role');
  return async (request) => {
    const principal = principalOf(request);
    if (!roles.includes(principal.role)) {
      throw new NovaCronError('NC_FORBIDDEN', `the ${principal.role} role may not call this route (allowed: ${roles.join(', ')})`, {
        details: { role: principal.role, allowed: roles },
      });
    }
  };
}

/**
 * Operators reach every tenant's resources; a tenant principal only its own.
 * For another tenant's resource (or an operator-owned one, `ownerTenantId`
 * null) it throws the same 404 NC_NOT_FOUND as a missing entity, with the same
 * message and details as the deciders', so existence does not leak.
 */
export function assertTenantAccess(principal: Principal, ownerTenantId: string | null, resource: { entity: string; id: string }): void {
  if (principal.role === 'operator') return;
  if (principal.tenantId !== null && principal.tenantId === ownerTenantId) return;
  throw new NovaCronError('NC_NOT_FOUND', `${resource.entity} ${resource.id} does not exist`, { details: { entity: resource.entity, id: resource.id } });
}
