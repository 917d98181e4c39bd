import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sqlIdentifier, sqlInteger, sqlString, sqlStringList, toClickHouseString } from './escape.ts';

const SIMPLE: Record<string, string> = { '\\': '\\', "'": "'", '0': '\0', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** ClickHouse's reading of a single-quoted literal (the escapes sqlString emits), as a reference. */
function readLiteral(literal: string): string {
  expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
  let out = '';
  for (let i = 1; i < literal.length - 1; i++) {
    const c = literal[i] as string;
    if (c === "'") throw new Error(`unescaped quote at ${i} in ${literal}`);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = literal[++i] as string;
    if (next === 'x') {
      out += String.fromCharCode(parseInt(literal.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next in SIMPLE) out += SIMPLE[next];
    else throw new Error(`unexpected escape \\${next}`);
  }
  return out;
}

describe('sqlString', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['back\\slash', "'back\\\\slash'"],
    ['\\\'', "'\\\\\\''"],
    ['nul\0byte', "'nul\\0byte'"],
    ['two\nlines\r\n', "'two\\nlines\\r\\n'"],
    ['tab\there', "'tab\\there'"],
    ['bell\u0007 del\u007f esc\u001b', "'bell\\x07 del\\x7f esc\\x1b'"],
    ['ünïcødé ✓ 😀 日本', "'ünïcødé ✓ 😀 日本'"],
    ['', "''"],
  ])('quotes %j', (value, literal) => {
    expect(sqlString(value)).toBe(literal);
    expect(readLiteral(literal)).toBe(value);
  });

  it('replaces lone surrogates, which UTF-8 cannot carry, with U+FFFD (as rows are)', () => {
    expect(sqlString('a\ud800b')).toBe("'a\ufffdb'");
    expect(sqlString('\udc00')).toBe("'\ufffd'");
    expect(toClickHouseString('ok 😀')).toBe('ok 😀');
  });

  it('round-trips any well-formed string and never leaves a quote, a backslash or a control character unescaped', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const literal = sqlString(value);
        expect(readLiteral(literal)).toBe(value);
        // eslint-disable-next-line no-control-regex
        expect(/[\u0000-\u001f\u007f]/.test(literal)).toBe(false);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("'", '\\', '\0', '\n', 'x', '\u00e9', '\ud83d\ude00') }), (value) => {
        expect(readLiteral(sqlString(value))).toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  it('maps any string (lone surrogates included) as rows do', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii' }).chain((a) => fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }).map((b) => a + b)), (value) => {
        expect(readLiteral(sqlString(value))).toBe(toClickHouseString(value));
      }),
    );
  });

  it('refuses what is not a string', () => {
    expect(() => sqlString(1 as unknown as string)).toThrow(TypeError);
  });
});

describe('sqlInteger, sqlStringList, sqlIdentifier', () => {
  it('writes safe integers only', () => {
    expect(sqlInteger(0)).toBe('0');
    expect(sqlInteger(-42)).toBe('-42');
    expect(sqlInteger(2 ** 53 - 1)).toBe('9007199254740991');
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) expect(() => sqlInteger(bad)).toThrow(RangeError);
  });

  it('lists strings for IN, and refuses an empty list', () => {
    expect(sqlStringList(['a', "b'c"])).toBe("('a', 'b\\'c')");
    expect(() => sqlStringList([])).toThrow(RangeError);
  });

  it('takes plain identifiers only', () => {
    expect(sqlIdentifier('novacron')).toBe('novacron');
    expect(sqlIdentifier('_t1')).toBe('_t1');
    for (const bad of ['', '1db', 'a-b', 'a.b', 'a b', '`x`', 'x'.repeat(65), "db'; DROP"]) expect(() => sqlIdentifier(bad)).toThrow(RangeError);
  });
});
