/** What a personal field reads as once its tenant's data key is destroyed (crypto-shredding). */
export const REDACTED = '[redacted]';

/**
 * Encrypts personal strings with a per-tenant data key (AES-256-GCM). The
 * ciphertext is itself a string (`ncpii:v1:<base64url(iv|tag|ciphertext)>` under version 1 of the
 * tenant's key, `ncpii:v2:<version>:<base64url(…)>` under a later one), so
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

/** The master key that wraps new data keys, and the ones being rotated away from (they still unwrap). */
export interface MasterKeyring {
  current: Buffer;
  previous: readonly Buffer[];
}

/** Which master keys a key store's rows are wrapped under (`novacron keys status`). */
export interface MasterKeyReport {
  /** The id of the master key new data keys are wrapped under. */
  current: string;
  /** The ids of the master keys this process holds. */
  held: string[];
  /** How many data key versions each master key id wraps. */
  dataKeysByMasterKey: Record<string, number>;
}

/**
 * Per-tenant data keys, kept wrapped by the master key, in a store of their own.
 * A tenant's key has versions 1, 2, …: new data is encrypted under the latest,
 * old data stays readable under its own.
 */
export interface KeyStore {
  /**
   * The tenant's latest 32-byte data key, created (version 1) on first use; null
   * when the tenant's keys were destroyed (a destroyed key is never recreated).
   */
  getOrCreateDataKey(tenantId: string): Buffer | null;
  /** The same, with its version (what new tokens name). */
  getOrCreateCurrentKey(tenantId: string): { version: number; key: Buffer } | null;
  /** The tenant's data key of this version (the latest when omitted), or null when it never existed or was destroyed. */
  getDataKey(tenantId: string, version?: number): Buffer | null;
  /**
   * Adds a new version of the tenant's data key and returns its number: data
   * written from now on is encrypted under it, older data stays readable.
   * Throws NC_DATA_KEY_DESTROYED for a deleted tenant.
   */
  rotateDataKey(tenantId: string): number;
  /**
   * Makes this process's master key the current one and rewraps every data key
   * version under it (batches of short transactions; no event is re-encrypted).
   * Every row must be wrapped under a key this process holds (current or previous).
   */
  rotateMasterKey(): { masterKeyId: string; rewrapped: number };
  masterKeys(): MasterKeyReport;
  /**
   * Destroys every version of the tenant's key for good: its personal data becomes
   * unreadable. The key buffers handed out before are zeroed (callers must not
   * keep copies). Leaves a tombstone, so it also works for a tenant that never had
   * a key. Idempotent.
   */
  destroyDataKey(tenantId: string): void;
  isDestroyed(tenantId: string): boolean;
  close(): void;
}
