import { NovaCronError } from '../errors/index.ts';
import { SEAL_OVERHEAD, open, seal } from './aead.ts';
import { REDACTED, type KeyStore, type PersonalDataCipher } from './types.ts';

/** Every token starts with this; the version names the format after it. */
export const TOKEN_PREFIX = 'ncpii:';
const V1 = `${TOKEN_PREFIX}v1:`;
const V2 = `${TOKEN_PREFIX}v2:`;
/** A key version in a v2 token: 1 to 2^31 − 1, no leading zero. */
const VERSION = /^[1-9][0-9]{0,9}$/;
const MAX_VERSION = 2 ** 31 - 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Personal data as `ncpii:v1:<base64url(iv | tag | ciphertext)>`, AES-256-GCM
 * under version 1 of the tenant's data key with the tenant id as AAD; under a
 * later version (after `novacron keys rotate-tenant`) as
 * `ncpii:v2:<version>:<base64url(…)>`. Version 1 keeps the v1 form, so a
 * process of the release before rotation existed still reads what this one
 * writes until the tenant's key is first rotated.
 */
export const createPersonalDataCipher = (keyStore: KeyStore): PersonalDataCipher => {
  const isEncrypted = (value: string): boolean => value.startsWith(TOKEN_PREFIX);

  return {
    isEncrypted,

    encrypt(tenantId, plaintext) {
      const current = keyStore.getOrCreateCurrentKey(tenantId);
      if (current === null) return REDACTED;
      const sealed = seal(current.key, Buffer.from(plaintext, 'utf8'), Buffer.from(tenantId, 'utf8'));
      return current.version === 1 ? `${V1}${sealed.toString('base64url')}` : `${V2}${current.version}:${sealed.toString('base64url')}`;
    },

    decrypt(tenantId, token) {
      if (!isEncrypted(token)) {
        // Written before encryption existed: readable while the tenant lives, shredded with it.
        return keyStore.isDestroyed(tenantId) ? REDACTED : token;
      }
      const { version, sealed } = parseToken(tenantId, token);
      const key = keyStore.getDataKey(tenantId, version);
      if (key === null) {
        if (keyStore.isDestroyed(tenantId)) return REDACTED;
        throw new NovaCronError(
          'NC_DATA_KEY_NOT_FOUND',
          `tenant ${tenantId} has no data key version ${version} in this key store: the value was encrypted for another tenant, or the key store is not the one it was written with`,
          { details: { tenantId, version } },
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

const parseToken = (tenantId: string, token: string): { version: number; sealed: Buffer } => {
  if (token.startsWith(V1)) return { version: 1, sealed: parseSealed(tenantId, token.slice(V1.length)) };
  if (!token.startsWith(V2)) throw invalid(tenantId, `its version is not supported (expected ${V1}… or ${V2}<key version>:…)`);
  const rest = token.slice(V2.length);
  const colon = rest.indexOf(':');
  const digits = colon < 0 ? '' : rest.slice(0, colon);
  if (!VERSION.test(digits) || Number(digits) > MAX_VERSION) throw invalid(tenantId, 'its key version is not a number from 1 to 2^31 − 1');
  return { version: Number(digits), sealed: parseSealed(tenantId, rest.slice(colon + 1)) };
};

const parseSealed = (tenantId: string, body: string): Buffer => {
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
