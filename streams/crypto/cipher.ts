import { NovaCronError } from '../errors/index.ts';
import { SEAL_OVERHEAD, open, seal } from './aead.ts';
import { REDACTED, type KeyStore, type PersonalDataCipher } from './types.ts';

/** Every token starts with this; the version names the format after it. */
export const TOKEN_PREFIX = 'ncpii:';
const V1 = `${TOKEN_PREFIX}v1:`;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Personal data as `ncpii:v1:<base64url(iv | tag | ciphertext)>`, AES-256-GCM
 * under the tenant's data key with the tenant id as AAD.
 */
export const createPersonalDataCipher = (keyStore: KeyStore): PersonalDataCipher => {
  const isEncrypted = (value: string): boolean => value.startsWith(TOKEN_PREFIX);

  return {
    isEncrypted,

    encrypt(tenantId, plaintext) {
      const key = keyStore.getOrCreateDataKey(tenantId);
      if (key === null) return REDACTED;
      const sealed = seal(key, Buffer.from(plaintext, 'utf8'), Buffer.from(tenantId, 'utf8'));
      return `${V1}${sealed.toString('base64url')}`;
    },

    decrypt(tenantId, token) {
      if (!isEncrypted(token)) {
        // Written before encryption existed: readable while the tenant lives, shredded with it.
        return keyStore.isDestroyed(tenantId) ? REDACTED : token;
      }
      const sealed = parseToken(tenantId, token);
      const key = keyStore.getDataKey(tenantId);
      if (key === null) {
        if (keyStore.isDestroyed(tenantId)) return REDACTED;
        throw new NovaCronError(
          'NC_DATA_KEY_NOT_FOUND',
          `tenant ${tenantId} has no data key in this key store: the value was encrypted for another tenant, or the key store is not the one it was written with`,
          { details: { tenantId } },
        );
      }
      const plaintext = open(key, sealed, Buffer.from(tenantId, 'utf8'));
      if (plaintext === undefined) {
        throw invalid(tenantId, 'it fails authentication: it was altered, truncated, or encrypted for another tenant');
      }
      return plaintext.toString('utf8');
    },
  };
};

const parseToken = (tenantId: string, token: string): Buffer => {
  if (!token.startsWith(V1)) throw invalid(tenantId, `its version is not supported (expected ${V1}…)`);
  const body = token.slice(V1.length);
  const sealed = BASE64URL.test(body) ? Buffer.from(body, 'base64url') : undefined;
  // Re-encoding must give the same text: no stray characters, no ignored trailing bits.
  if (sealed === undefined || sealed.length < SEAL_OVERHEAD || sealed.toString('base64url') !== body) {
    throw invalid(tenantId, 'it is not well-formed base64url of iv | tag | ciphertext');
  }
  return sealed;
};

const invalid = (tenantId: string, reason: string): NovaCronError =>
  new NovaCronError('NC_CIPHERTEXT_INVALID', `cannot decrypt personal data of tenant ${tenantId}: ${reason}`, {
    details: { tenantId },
  });
