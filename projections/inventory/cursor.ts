import { NovaCronError } from '../../streams/errors/index.ts';

/** Most rows a list answers at once, and how many it answers when not told. */
export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;

/** Cursors are opaque to clients: base64url of `{"after": <sort key of the page's last row>}`. */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]{1,1024}$';

export const encodeCursor = (after: string): string => Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');

function invalidCursor(): NovaCronError {
  return new NovaCronError('NC_VALIDATION', 'cursor is not one this API gave out; pass the nextCursor of the previous page as it is', {
    details: { location: 'querystring', field: 'cursor' },
  });
}

/** The sort key a cursor continues after; NC_VALIDATION for anything this module did not encode. */
export function decodeCursor(cursor: string): string {
  if (!new RegExp(CURSOR_PATTERN).test(cursor)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidCursor();
  const after: unknown = Reflect.get(parsed, 'after');
  if (typeof after !== 'string' || after.length === 0 || Object.keys(parsed).length !== 1) throw invalidCursor();
  return after;
}

/** The page size to use: the default when not given, never above MAX_PAGE nor below 1. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isFinite(limit)) throw new RangeError(`page size must be a number, got ${limit}`);
  return Math.min(MAX_PAGE, Math.max(1, Math.floor(limit)));
}
