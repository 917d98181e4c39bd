import { createSigner } from 'fast-jwt';
import { isTenantRole, type Role } from './principal.ts';

export interface TokenRequest {
  subject: string;
  role: Role;
  /** Required for tenant roles, refused for operators. */
  tenantId?: string | undefined;
  ttlSeconds: number;
}

/** Signs an HS256 JWT `{ sub, role, tenantId? }` expiring after `ttlSeconds`, as the server verifies it. */
export function signToken(secret: string, { subject, role, tenantId, ttlSeconds }: TokenRequest): string {
  if (isTenantRole(role) !== (tenantId !== undefined)) {
    throw new RangeError(isTenantRole(role) ? `a ${role} token needs a tenant id` : 'an operator token takes no tenant id');
  }
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSeconds * 1000 });
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
