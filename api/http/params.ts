import { Type } from 'typebox';
import { IDEMPOTENCY_KEY_PATTERN } from '../idempotency/request-hash.ts';
import { TENANT_ID_PATTERN } from './ids.ts';

/** Path and body schemas shared by routes. */
export const TenantId = Type.String({ pattern: TENANT_ID_PATTERN, description: 'Tenant id: letters, digits and ._:@-, at most 193 characters.' });

/**
 * The Idempotency-Key header, for routes that want it in their OpenAPI
 * operation: `headers: Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKeyHeader) })`.
 * (The idempotency plugin handles it whether or not a route declares it.)
 */
export const IdempotencyKeyHeader = Type.String({
  pattern: IDEMPOTENCY_KEY_PATTERN,
  description: 'Retries with the same key get the first answer back (Idempotent-Replayed: true); 1 to 255 visible ASCII characters.',
});
