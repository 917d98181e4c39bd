/** What a personal field reads as once its tenant's data key is destroyed (crypto-shredding). */
export const REDACTED = '[redacted]';

/**
 * Encrypts personal strings with a per-tenant data key (AES-256-GCM). The
 * ciphertext is itself a string (`ncpii:v1:<base64url(iv|tag|ciphertext)>`), so
 * an encrypted event still matches its Avro schema and travels encrypted to
 * Kafka and ClickHouse. The tenant id is the AAD: a token only decrypts for the
 * tenant it was written for.
 */
export interface PersonalDataCipher {
  /**
   * Encrypts with the tenant's data key, creating the key on first use.
   * Returns REDACTED (and stores nothing) when the tenant's key was destroyed.
   * Throws NC_KEY_MISSING for an empty tenant id.
   */
  encrypt(tenantId: string, plaintext: string): string;
  /**
   * The plaintext, or REDACTED when the tenant's key has been destroyed. A value
   * that is not a token (written before encryption existed) comes back as is
   * while the tenant lives. Throws NC_CIPHERTEXT_INVALID for an altered token or
   * one written for another tenant, NC_DATA_KEY_NOT_FOUND when the tenant never
   * had a key in this key store.
   */
  decrypt(tenantId: string, token: string): string;
  /** True when the value carries the `ncpii:` token prefix. */
  isEncrypted(value: string): boolean;
}

/** Per-tenant data keys, kept wrapped by the master key, in a store of their own. */
export interface KeyStore {
  /**
   * The tenant's 32-byte data key, created on first use; null when the key was
   * destroyed (a destroyed key is never recreated).
   */
  getOrCreateDataKey(tenantId: string): Buffer | null;
  /** The tenant's data key, or null when it never existed or was destroyed. */
  getDataKey(tenantId: string): Buffer | null;
  /**
   * Destroys the tenant's key for good: its personal data becomes unreadable.
   * The key buffer handed out before is zeroed (callers must not keep copies).
   * Leaves a tombstone, so it also works for a tenant that never had a key.
   * Idempotent.
   */
  destroyDataKey(tenantId: string): void;
  isDestroyed(tenantId: string): boolean;
  close(): void;
}
