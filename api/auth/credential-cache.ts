import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.ts';

interface Entry {
  principal: Principal;
  /** Epoch ms: the entry is dropped on the first lookup at or after it. */
  until: number;
  /** The API key's id, for a revocation to find the entry. */
  apiKeyId: string | null;
}

export interface CredentialCache {
  /** The principal of a credential verified before and still valid, or undefined. */
  get(credential: string): Principal | undefined;
  /** Keeps a verified credential until `untilMs` (never past a JWT's exp: the caller passes it). */
  set(credential: string, principal: Principal, untilMs: number, apiKeyId?: string | null): void;
  /** Drops the entries of a revoked API key. */
  forgetApiKey(id: string): void;
  /** Drops every entry of a deleted tenant. */
  forgetTenant(tenantId: string): void;
  readonly size: number;
}

/**
 * Verified JWTs and API keys (lru-cache, at most `max` entries), keyed by the
 * credential as presented, held only in this process's memory. An entry
 * lives until the token's exp (plus clock skew) and, for API keys, at most
 * `apiKeyTtlMs`, so that a key revoked on another API instance stops working
 * here within that time; a revocation or a tenant's deletion on this instance
 * drops its entries at once.
 */
export function createCredentialCache({ max, apiKeyTtlMs, now = Date.now }: { max: number; apiKeyTtlMs: number; now?: () => number }): CredentialCache {
  const lru = new LRUCache<string, Entry>({ max: Math.max(1, max) });
  const forgetWhere = (match: (entry: Entry) => boolean) => {
    for (const [credential, entry] of lru.entries()) if (match(entry)) lru.delete(credential);
  };
  return {
    get(credential) {
      if (max === 0) return undefined;
      const entry = lru.get(credential);
      if (entry === undefined) return undefined;
      if (now() >= entry.until) {
        lru.delete(credential);
        return undefined;
      }
      return entry.principal;
    },
    set(credential, principal, untilMs, apiKeyId = null) {
      if (max === 0) return;
      const until = apiKeyId === null ? untilMs : Math.min(untilMs, now() + apiKeyTtlMs);
      if (until > now()) lru.set(credential, { principal, until, apiKeyId });
    },
    forgetApiKey(id) {
      forgetWhere((entry) => entry.apiKeyId === id);
    },
    forgetTenant(tenantId) {
      forgetWhere((entry) => entry.principal.tenantId === tenantId);
    },
    get size() {
      return lru.size;
    },
  };
}
