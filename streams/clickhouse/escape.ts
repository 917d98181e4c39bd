/**
 * Literals and identifiers for ClickHouse SQL, built in the statement text:
 * ClickHouse 18.16 has no query parameters (`{name:Type}` arrives in 19.x), so
 * every value that reaches a statement goes through one of these helpers, and
 * nothing else is ever concatenated into SQL.
 *
 * String literals use the escapes every release parses the same way inside
 * single quotes: `\\`, `\'`, `\0`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\xHH` for
 * the other control characters. Everything else (unicode included) is sent as
 * its UTF-8 bytes. JavaScript strings that are not well-formed UTF-16 (a lone
 * surrogate) cannot be written as UTF-8: the lone surrogate becomes U+FFFD, as
 * in the JSONEachRow rows `toClickHouseString` prepares, so a value written as
 * a row and looked up as a literal still match.
 */

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\\'\u0000-\u001f\u007f]/g;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const escapeChar = (char: string): string => ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** `value` as ClickHouse can store it: lone surrogates (not representable in UTF-8) replaced with U+FFFD. */
export function toClickHouseString(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

/** A single-quoted ClickHouse string literal of `value`. */
export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`sqlString: expected a string, got ${typeof value}`);
  return `'${toClickHouseString(value).replace(NEEDS_ESCAPE, escapeChar)}'`;
}

/** A ClickHouse integer literal; RangeError for anything that is not a safe integer. */
export function sqlInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`sqlInteger: expected a safe integer, got ${String(value)}`);
  return String(value);
}

/** `('v1', 'v2', …)` for `IN`; RangeError for an empty list (`IN ()` is a syntax error). */
export function sqlStringList(values: readonly string[]): string {
  if (values.length === 0) throw new RangeError('sqlStringList: the list is empty');
  return `(${values.map(sqlString).join(', ')})`;
}

/** Names NovaCron creates (databases, tables): letters, digits and `_`, not starting with a digit; used bare, so no quoting rule can differ between releases. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** `name`, checked against IDENTIFIER_PATTERN (RangeError otherwise). */
export function sqlIdentifier(name: string): string {
  if (typeof name !== 'string' || !IDENTIFIER_PATTERN.test(name)) {
    throw new RangeError(`sqlIdentifier: ${JSON.stringify(name)} is not a plain identifier (letters, digits and _, at most 64, not starting with a digit)`);
  }
  return name;
}
