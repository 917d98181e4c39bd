import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPersonalDataCipher } from './cipher.ts';
import { createKeyStore } from './key-store.ts';
import { REDACTED, type KeyStore, type PersonalDataCipher } from './types.ts';

let dir: string;
let keyStore: KeyStore;
let cipher: PersonalDataCipher;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-cipher-'));
  keyStore = createKeyStore({ path: join(dir, 'keys.sqlite'), masterKey: randomBytes(32) });
  cipher = createPersonalDataCipher(keyStore);
});
afterEach(() => {
  keyStore.close();
  rmSync(dir, { recursive: true, force: true });
});

const flipChar = (token: string, index: number): string => {
  const char = token[index] === 'A' ? 'B' : 'A';
  return token.slice(0, index) + char + token.slice(index + 1);
};

describe('a live tenant', () => {
  it.each(['ada@example.com', '', 'ssh-ed25519 AAAAC3Nza… ops@host', 'ünïcødé ✓ 🚀', 'x'.repeat(100_000)])(
    'round-trips %#',
    (plaintext) => {
      const token = cipher.encrypt('t1', plaintext);
      expect(token).toMatch(/^ncpii:v1:[A-Za-z0-9_-]+$/);
      expect(cipher.isEncrypted(token)).toBe(true);
      expect(cipher.decrypt('t1', token)).toBe(plaintext);
    },
  );

  it('encrypts the same plaintext differently each time', () => {
    const tokens = new Set(Array.from({ length: 20 }, () => cipher.encrypt('t1', 'ada@example.com')));
    expect(tokens.size).toBe(20);
    for (const token of tokens) expect(cipher.decrypt('t1', token)).toBe('ada@example.com');
  });

  it('returns a value that is not a token unchanged (written before encryption)', () => {
    expect(cipher.isEncrypted('ada@example.com')).toBe(false);
    expect(cipher.decrypt('t1', 'ada@example.com')).toBe('ada@example.com');
  });

  it('rejects altered, truncated or malformed tokens with a clear error', () => {
    const token = cipher.encrypt('t1', 'ada@example.com');
    const tampered = [
      flipChar(token, token.length - 2), // ciphertext
      flipChar(token, 'ncpii:v1:'.length + 1), // iv
      flipChar(token, 'ncpii:v1:'.length + 20), // tag
      token.slice(0, -4), // truncated
      `${token}A`, // trailing junk
      'ncpii:v1:not base64!',
      'ncpii:v1:',
      token.replace('ncpii:v1:', 'ncpii:v9:'),
    ];
    for (const value of tampered) {
      expect(() => cipher.decrypt('t1', value), value).toThrow(
        expect.objectContaining({ code: 'NC_CIPHERTEXT_INVALID', message: expect.stringContaining('tenant t1') }),
      );
    }
  });
});

describe('tenant binding', () => {
  it("does not decrypt tenant A's token as tenant B", () => {
    const token = cipher.encrypt('tenant-a', 'ada@example.com');
    cipher.encrypt('tenant-b', 'bob@example.com'); // B has a key of its own
    expect(() => cipher.decrypt('tenant-b', token)).toThrow(expect.objectContaining({ code: 'NC_CIPHERTEXT_INVALID' }));
    expect(() => cipher.decrypt('tenant-c', token)).toThrow(expect.objectContaining({ code: 'NC_DATA_KEY_NOT_FOUND' }));
  });

  it('binds the token to the tenant id itself (AAD), even under one shared key', () => {
    const shared = randomBytes(32);
    const oneKeyForAll: KeyStore = {
      getOrCreateDataKey: () => shared,
      getOrCreateCurrentKey: () => ({ version: 1, key: shared }),
      getDataKey: () => shared,
      rotateDataKey: () => 1,
      rotateMasterKey: () => ({ masterKeyId: 'none', rewrapped: 0 }),
      masterKeys: () => ({ current: 'none', held: [], dataKeysByMasterKey: {} }),
      destroyDataKey: () => undefined,
      isDestroyed: () => false,
      close: () => undefined,
    };
    const sharedCipher = createPersonalDataCipher(oneKeyForAll);
    const token = sharedCipher.encrypt('tenant-a', 'ada@example.com');
    expect(sharedCipher.decrypt('tenant-a', token)).toBe('ada@example.com');
    expect(() => sharedCipher.decrypt('tenant-b', token)).toThrow(expect.objectContaining({ code: 'NC_CIPHERTEXT_INVALID' }));
  });
});

describe('a destroyed tenant', () => {
  it('reads as REDACTED while other tenants are untouched', () => {
    const a = cipher.encrypt('tenant-a', 'ada@example.com');
    const b = cipher.encrypt('tenant-b', 'bob@example.com');
    keyStore.destroyDataKey('tenant-a');

    expect(cipher.decrypt('tenant-a', a)).toBe(REDACTED);
    expect(cipher.decrypt('tenant-a', 'legacy@example.com')).toBe(REDACTED); // plaintext from before encryption too
    expect(cipher.decrypt('tenant-b', b)).toBe('bob@example.com');
    expect(cipher.encrypt('tenant-b', 'x')).not.toBe(REDACTED);
  });

  it('encrypts to REDACTED and never gets a new key', () => {
    cipher.encrypt('tenant-a', 'ada@example.com');
    keyStore.destroyDataKey('tenant-a');
    expect(cipher.encrypt('tenant-a', 'ada@example.com')).toBe(REDACTED);
    expect(keyStore.getDataKey('tenant-a')).toBeNull();
  });

  it('stays REDACTED after the key store is reopened', () => {
    const masterKey = randomBytes(32);
    const path = join(dir, 'reopen.sqlite');
    const first = createKeyStore({ path, masterKey });
    const token = createPersonalDataCipher(first).encrypt('tenant-a', 'ada@example.com');
    first.destroyDataKey('tenant-a');
    first.close();

    const reopened = createKeyStore({ path, masterKey });
    try {
      const again = createPersonalDataCipher(reopened);
      expect(again.decrypt('tenant-a', token)).toBe(REDACTED);
      expect(again.encrypt('tenant-a', 'ada@example.com')).toBe(REDACTED);
    } finally {
      reopened.close();
    }
  });
});
