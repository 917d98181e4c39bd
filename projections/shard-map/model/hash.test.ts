import { describe, expect, it } from 'vitest';
import { murmur3, murmur3Bytes } from './hash.ts';

// Reference vectors of MurmurHash3 x86_32 (SMHasher); UTF-8 ones checked against a byte-wise reference.
describe('murmur3', () => {
  it.each([
    ['', 0, 0x00000000],
    ['', 1, 0x514e28b7],
    ['test', 0, 0xba6bd213],
    ['Hello, world!', 0, 0xc0363e43],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['abcé', 0, 0xcca13541],
    ['ünïcødé €😀', 0, 0xfd12c5ef],
  ])('hashes %j (seed %i) like the reference', (text, seed, expected) => {
    expect(murmur3(text, seed)).toBe(expected);
  });

  it('hashes a string as its UTF-8 bytes, unsigned', () => {
    for (const text of ['a', 'ab', 'abc', 'abcd', 'abcde', 'vm-123', 'é', 'aé', 'abé', 'x😀y']) {
      const h = murmur3(text);
      expect(h).toBe(murmur3Bytes(new TextEncoder().encode(text)));
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
    }
  });
});
