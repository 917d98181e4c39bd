import { createSigner } from 'fast-jwt';
import { isTenantRole, type Role } from './principal.ts';
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, kidOf } from './token-verifier.ts';

export interface TokenRequest {
  subject: string;
  role: Role;
  /** Required for tenant roles, refused for operators. */
  tenantId?: string | undefined;
  ttlSeconds: number;
  /** NOVACRON_JWT_ISSUER / NOVACRON_JWT_AUDIENCE of the server that will verify it (defaults: theirs). */
  issuer?: string | undefined;
  audience?: string | undefined;
}

/**
 * Signs an HS256 JWT `{ sub, role, tenantId?, iss, aud, iat, exp }` expiring
 * after `ttlSeconds`, its header naming the secret's `kid`, as the server
 * verifies it. Sign with the current secret (NOVACRON_JWT_SECRET).
 */
export function signToken(secret: string, { subject, role, tenantId, ttlSeconds, issuer = DEFAULT_JWT_ISSUER, audience = DEFAULT_JWT_AUDIENCE }: TokenRequest): string {
  if (isTenantRole(role) !== (tenantId !== undefined)) {
    throw new RangeError(isTenantRole(role) ? `a ${role} token needs a tenant id` : 'an operator token takes no tenant id');
  }
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSeconds * 1000, kid: kidOf(secret), iss: issuer, aud: audience });
  return sign(tenantId === undefined ? { sub: subject, role } : { sub: subject, role, tenantId });
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `15m`, `1h`, `30d` → seconds; undefined for anything else (or zero). */
export function parseTtl(text: string): number | undefined {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (match === null) return undefined;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 0);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}
