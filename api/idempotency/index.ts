export { idempotency, type IdempotencyOptions } from './plugin.ts';
export { createIdempotencyStore, type IdempotencyStore, type IdempotencyScope, type IdempotencyRecord, type StoredAnswer } from './store.ts';
export { requestHash, canonicalJson, isIdempotencyKey, IDEMPOTENCY_KEY_PATTERN } from './request-hash.ts';
