import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM with a random 96-bit IV and a 128-bit tag, sealed as `iv | tag | ciphertext`. */
const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = IV_BYTES + TAG_BYTES;

export const seal = (key: Buffer, plaintext: Buffer, aad: Buffer): Buffer => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
};

/** The plaintext, or undefined when the sealed bytes fail authentication (wrong key, wrong AAD, altered). */
export const open = (key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined => {
  if (sealed.length < SEAL_OVERHEAD) return undefined;
  const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(IV_BYTES, SEAL_OVERHEAD));
  decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(SEAL_OVERHEAD)), decipher.final()]);
  } catch {
    return undefined;
  }
};
