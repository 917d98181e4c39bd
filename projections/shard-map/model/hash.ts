/**
 * MurmurHash3 x86_32 over the UTF-8 bytes of a string: fixed (seed 0), fast and
 * well distributed, and the same in every process, release and language that
 * implements the reference algorithm — ring positions and key hashes depend on
 * nothing else. ASCII strings are hashed straight from their char codes (their
 * UTF-8 bytes); any other string is UTF-8 encoded first (lone surrogates become
 * U+FFFD, as TextEncoder does).
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const utf8 = new TextEncoder();

const mixK = (k: number): number => Math.imul(((k = Math.imul(k, C1)) << 15) | (k >>> 17), C2);

const mixH = (h: number, k: number): number => {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
};

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of raw bytes; an unsigned 32-bit integer. */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blocks = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    h = mixH(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  const rest = length & 3;
  if (rest > 0) {
    let k = bytes[blocks]!;
    if (rest > 1) k |= bytes[blocks + 1]! << 8;
    if (rest > 2) k |= bytes[blocks + 2]! << 16;
    h ^= mixK(k);
  }
  return finish(h, length);
}

/** MurmurHash3 x86_32 of the UTF-8 encoding of `text`; an unsigned 32-bit integer. */
export function murmur3(text: string, seed = 0): number {
  const length = text.length;
  const blocks = length & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < blocks; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    if ((a | b | c | d) > 0x7f) return murmur3Bytes(utf8.encode(text), seed);
    h = mixH(h, a | (b << 8) | (c << 16) | (d << 24));
  }
  const rest = length & 3;
  if (rest > 0) {
    const a = text.charCodeAt(i);
    const b = rest > 1 ? text.charCodeAt(i + 1) : 0;
    const c = rest > 2 ? text.charCodeAt(i + 2) : 0;
    if ((a | b | c) > 0x7f) return murmur3Bytes(utf8.encode(text), seed);
    h ^= mixK(a | (b << 8) | (c << 16));
  }
  return finish(h, length);
}
