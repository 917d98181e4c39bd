import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NovaCronError } from '../../streams/errors/index.ts';

/** Deepest nesting of arrays and objects a body may have (NovaCron's deepest schema needs 3). */
export const MAX_JSON_DEPTH = 32;

// Code units, not code points (no `u` flag): a high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const wellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

const malformed = (message: string): NovaCronError => new NovaCronError('NC_MALFORMED_JSON', message);

/** The `charset` parameter of a Content-Type, lower-cased, or null. */
function charsetOf(contentType: string | undefined): string | null {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase() ?? null;
}

/**
 * Walks a parsed body without recursion past MAX_JSON_DEPTH: refuses deeper
 * nesting (before anything hashes or copies it, e.g. the Idempotency-Key's
 * canonical JSON), strings with a lone UTF-16 surrogate (they cannot be stored
 * as what was answered), and `__proto__` keys (prototype poisoning).
 */
function check(value: unknown, depth: number, path: string): void {
  if (typeof value === 'string') {
    if (!wellFormed(value)) {
      throw new NovaCronError('NC_VALIDATION', `body${path} holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair); send well-formed Unicode`, {
        details: { location: 'body', field: path.replace(/^\./, ''), errors: [{ field: path.replace(/^\./, ''), message: 'holds a lone UTF-16 surrogate' }] },
      });
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_JSON_DEPTH) throw new NovaCronError('NC_JSON_TOO_DEEP', `the body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, { details: { maxDepth: MAX_JSON_DEPTH } });
  if (Array.isArray(value)) {
    value.forEach((item, i) => check(item, depth + 1, `${path}[${i}]`));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__') throw malformed('the body has a "__proto__" key');
    if (!wellFormed(key)) throw malformed('the body has a key with a lone UTF-16 surrogate');
    check(item, depth + 1, `${path}.${key}`);
  }
}

/** Whether the route takes no body or an optional one (`Type.Optional(…)`, e.g. the action POSTs): there, an empty body is no body. */
function bodyOptional(request: Pick<FastifyRequest, 'routeOptions'>): boolean {
  const body = (request.routeOptions.schema as { body?: Record<string, unknown> } | undefined)?.body;
  return body === undefined || body['~optional'] === true;
}

/**
 * Parses a JSON body: UTF-8 only (no other charset, no byte-order mark),
 * bounded depth, well-formed strings. An empty body is no body on a route
 * whose body is optional (what `curl -H 'Content-Type: application/json' -X POST` sends), else 400.
 */
export function parseJsonBody(request: Pick<FastifyRequest, 'headers' | 'routeOptions'>, raw: Buffer): unknown {
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
    throw new NovaCronError('NC_UNSUPPORTED_MEDIA_TYPE', `the body is declared charset=${charset}; send it as UTF-8 (application/json; charset=utf-8)`);
  }
  if (raw.length >= 2 && ((raw[0] === 0xfe && raw[1] === 0xff) || (raw[0] === 0xff && raw[1] === 0xfe))) throw new NovaCronError('NC_UNSUPPORTED_MEDIA_TYPE', 'the body is UTF-16 (it starts with a byte-order mark); send it as UTF-8');
  if (raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) throw malformed('the body starts with a byte-order mark; send UTF-8 without one');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(raw);
  if (text.trim() === '') {
    if (bodyOptional(request)) return undefined;
    throw malformed('the body is empty although Content-Type says application/json');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed('the body is not valid JSON');
  }
  check(parsed, 0, '');
  return parsed;
}

/**
 * Installs the body parsers: application/json through parseJsonBody; any other
 * or no Content-Type only for an empty body or `{}` (what `curl -X POST` and
 * `curl -d '{}'` send to an action route), else 415.
 */
export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer) => parseJsonBody(request, body));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, async (_request: FastifyRequest, body: Buffer) => {
    const text = body.toString('utf8').trim();
    if (text === '') return undefined;
    if (/^\{\s*\}$/.test(text)) return {};
    throw new NovaCronError('NC_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  });
}
