import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { TENANT_ID_PATTERN } from '../http/ids.ts';
import { isTenantRole, type Principal } from './principal.ts';

/** The claims NovaCron reads from a JWT (others, such as iat and exp, are allowed). */
export const TokenClaims = Type.Object({
  sub: Type.String({ minLength: 1, maxLength: 200 }),
  role: Type.Enum(['operator', 'tenant-admin', 'tenant-user']),
  tenantId: Type.Optional(Type.String({ pattern: TENANT_ID_PATTERN })),
});

const claimsCheck = Compile(TokenClaims);

/**
 * The principal a verified JWT payload names, or a reason why it names none:
 * tenant roles need a tenantId; an operator's token carries none (a tenantId
 * on an operator token is ignored).
 */
export function principalFromClaims(payload: unknown): Principal | { invalid: string } {
  if (!claimsCheck.Check(payload)) return { invalid: 'the token claims must hold sub, role (operator, tenant-admin or tenant-user) and, for tenant roles, tenantId' };
  const { sub, role, tenantId } = payload;
  if (isTenantRole(role)) {
    return tenantId === undefined ? { invalid: `a ${role} token must carry a tenantId claim` } : { subject: sub, role, tenantId };
  }
  return { subject: sub, role, tenantId: null };
}
