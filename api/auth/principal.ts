/** Who may call the API, and as whom each request runs. */
export const ROLES = ['operator', 'tenant-admin', 'tenant-user'] as const;
export type Role = (typeof ROLES)[number];

export const TENANT_ROLES = ['tenant-admin', 'tenant-user'] as const satisfies readonly Role[];
export type TenantRole = (typeof TENANT_ROLES)[number];

export const isRole = (value: unknown): value is Role => ROLES.some((role) => role === value);
export const isTenantRole = (value: unknown): value is TenantRole => TENANT_ROLES.some((role) => role === value);

/**
 * The authenticated caller: `subject` is the JWT's `sub` (or `apikey:<id>` for
 * an API key); `tenantId` is set for tenant roles and null for operators.
 */
export interface Principal {
  subject: string;
  role: Role;
  tenantId: string | null;
}

/** The `actor` recorded in event metadata: `operator:<sub>` or `tenant:<tenantId>:<sub>`. */
export const actorOf = (principal: Principal): string =>
  principal.tenantId === null ? `operator:${principal.subject}` : `tenant:${principal.tenantId}:${principal.subject}`;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth plugin on every /v1 request (null on public routes). */
    principal: Principal | null;
  }
}
