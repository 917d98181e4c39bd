export { ROLES, TENANT_ROLES, isRole, isTenantRole, actorOf, type Role, type TenantRole, type Principal } from './principal.ts';
export { requireRoles, assertTenantAccess, principalOf } from './guards.ts';
export { auth, isProtected, type AuthOptions } from './plugin.ts';
export { createApiKeyStore, type ApiKeyStore, type ApiKeyRecord, type CreatedApiKey } from './api-keys.ts';
export { apiKeyRoutes, type ApiKeyRoutesOptions } from './api-key-routes.ts';
export { loadJwtSecret, JWT_SECRET_FILE } from './jwt-secret.ts';
export { signToken, parseTtl, type TokenRequest } from './tokens.ts';
export { principalFromClaims, TokenClaims } from './claims.ts';
