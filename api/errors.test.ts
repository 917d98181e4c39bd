import { Writable } from 'node:stream';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCatalog, NovaCronError, type ErrorCode } from '../streams/errors/index.ts';
import { isEventId } from '../streams/eventstore/index.ts';
import type { RoutePlugin } from './app.ts';
import { ErrorResponse, errorResponses } from './http/error-schema.ts';
import { testApp, type TestApp } from './testing/test-app.ts';

const isErrorCode = (value: string): value is ErrorCode => Object.hasOwn(errorCatalog, value);

/** Test-only routes: a validated command-like body, thrown catalog errors, an unexpected crash. */
const probeRoutes: RoutePlugin = async (app) => {
  app.post(
    '/v1/probe',
    {
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            quota: Type.Object({ vcpus: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
            size: Type.Optional(Type.Union([Type.Literal('small'), Type.Literal('large')])),
          },
          { additionalProperties: false },
        ),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })) }),
        response: { 200: Type.Object({ ok: Type.Boolean(), limit: Type.Union([Type.Integer(), Type.Null()]) }), ...errorResponses(400, 401, 413, 415) },
      },
    },
    async (request) => ({ ok: true, limit: request.query.limit ?? null }),
  );
  app.get(
    '/v1/fail/:code',
    { schema: { params: Type.Object({ code: Type.String() }), response: { 200: Type.Object({}), ...errorResponses(400, 401, 404, 409, 422, 503) } } },
    async (request) => {
      const { code } = request.params;
      if (!isErrorCode(code)) throw new Error(`not a code: ${code}`);
      throw new NovaCronError(code, `failing with ${code}`, { details: { why: 'test' } });
    },
  );
  app.get('/v1/boom', { schema: { response: { 200: Type.Object({}), ...errorResponses(401) } } }, async () => {
    throw new Error('database password is hunter2');
  });
};

const checkErrorResponse = Compile(ErrorResponse);

let t: TestApp;
afterEach(async () => t?.close());

describe('the root error handler', () => {
  it('answers malformed JSON with 400 NC_MALFORMED_JSON', async () => {
    t = testApp({ extraPlugins: [probeRoutes] });
    const res = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: { ...t.asOperator(), 'content-type': 'application/json' }, payload: '{"name": "x",' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('NC_MALFORMED_JSON');
    const empty = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: { ...t.asOperator(), 'content-type': 'application/json' }, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('NC_MALFORMED_JSON');
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/v1/probe',
      headers: { ...t.asOperator(), 'content-type': 'application/json' },
      payload: '{"name":"x","quota":{"vcpus":1},"__proto__":{"admin":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json().error.code).toBe('NC_MALFORMED_JSON');
  });

  it('answers a 1.1 MiB body with 413 NC_PAYLOAD_TOO_LARGE', async () => {
    t = testApp({ extraPlugins: [probeRoutes] });
    const payload = JSON.stringify({ name: 'x'.repeat(1.1 * 1024 * 1024), quota: { vcpus: 1 } });
    const res = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: { ...t.asOperator(), 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'NC_PAYLOAD_TOO_LARGE', message: 'the body is larger than 1 MiB' } });
  });

  it('answers a body that is not JSON with 415 NC_UNSUPPORTED_MEDIA_TYPE', async () => {
    t = testApp({ extraPlugins: [probeRoutes] });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: { ...t.asOperator(), 'content-type': contentType }, payload: 'name=x' });
      expect(res.statusCode, contentType).toBe(415);
      expect(res.json().error.code).toBe('NC_UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('answers an unknown route with 404 NC_ROUTE_NOT_FOUND', async () => {
    t = testApp();
    const outside = await t.app.inject({ url: '/nowhere' });
    expect(outside.statusCode).toBe(404);
    expect(outside.json()).toEqual({ error: { code: 'NC_ROUTE_NOT_FOUND', message: 'no route GET /nowhere' } });
    const inside = await t.app.inject({ method: 'DELETE', url: '/v1/nowhere?x=1', headers: t.asOperator() });
    expect(inside.statusCode).toBe(404);
    expect(inside.json().error.code).toBe('NC_ROUTE_NOT_FOUND');
    // Anonymous callers learn nothing about which /v1 routes exist.
    expect((await t.app.inject({ url: '/v1/nowhere' })).statusCode).toBe(401);
  });

  it('answers invalid input with 400 NC_VALIDATION naming the field', async () => {
    t = testApp({ extraPlugins: [probeRoutes] });
    const missing = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: t.asOperator(), payload: { quota: { vcpus: 1 } } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toEqual({
      code: 'NC_VALIDATION',
      message: 'body.name is required',
      details: { location: 'body', field: 'name', errors: [{ field: 'name', message: 'is required' }] },
    });

    const nested = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: t.asOperator(), payload: { name: 'x', quota: { vcpus: 1.5 } } });
    expect(nested.json().error.details).toMatchObject({ location: 'body', field: 'quota.vcpus' });
    expect(nested.json().error.message).toBe('body.quota.vcpus must be integer');

    const unexpected = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: t.asOperator(), payload: { name: 'x', quota: { vcpus: 1, vpcus: 2 } } });
    expect(unexpected.json().error.details.errors).toEqual([{ field: 'quota.vpcus', message: 'is not allowed' }]);

    const choice = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: t.asOperator(), payload: { name: 'x', quota: { vcpus: 1 }, size: 'huge' } });
    expect(choice.json().error.details.errors).toEqual([{ field: 'size', message: 'must be one of "small", "large"' }]);

    const notAnObject = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: t.asOperator(), payload: [1, 2] });
    expect(notAnObject.statusCode).toBe(400);
    expect(notAnObject.json().error.code).toBe('NC_VALIDATION');

    const query = await t.app.inject({ method: 'POST', url: '/v1/probe?limit=eleven', headers: t.asOperator(), payload: { name: 'x', quota: { vcpus: 1 } } });
    expect(query.statusCode).toBe(400);
    expect(query.json().error.details).toMatchObject({ location: 'querystring', field: 'limit' });

    // Query strings are converted to their declared types; bodies are not.
    const converted = await t.app.inject({ method: 'POST', url: '/v1/probe?limit=3', headers: t.asOperator(), payload: { name: 'x', quota: { vcpus: 1 } } });
    expect(converted.json()).toEqual({ ok: true, limit: 3 });
    const notConverted = await t.app.inject({ method: 'POST', url: '/v1/probe', headers: t.asOperator(), payload: { name: 'x', quota: { vcpus: '1' } } });
    expect(notConverted.statusCode).toBe(400);
  });

  it('answers a NovaCronError with its catalog status, code, message and details', async () => {
    t = testApp({ extraPlugins: [probeRoutes] });
    for (const code of ['NC_NOT_FOUND', 'NC_REVISION_CONFLICT', 'NC_QUOTA_EXCEEDED', 'NC_VALIDATION'] as const) {
      const res = await t.app.inject({ url: `/v1/fail/${code}`, headers: t.asOperator() });
      expect(res.statusCode).toBe(errorCatalog[code].status);
      expect(res.json()).toEqual({ error: { code, message: `failing with ${code}`, details: { why: 'test' } } });
      expect(res.headers['retry-after']).toBeUndefined();
    }
  });

  it('adds Retry-After to a 503', async () => {
    t = testApp({ extraPlugins: [probeRoutes] });
    const res = await t.app.inject({ url: '/v1/fail/NC_STORE_UNAVAILABLE', headers: t.asOperator() });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error.code).toBe('NC_STORE_UNAVAILABLE');
  });

  it('answers anything unexpected with a generic 500 NC_INTERNAL and logs the cause', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    t = testApp({ extraPlugins: [probeRoutes], logger: { level: 'info', stream } });
    const res = await t.app.inject({ url: '/v1/boom', headers: { ...t.asOperator(), 'x-correlation-id': 'boom-1' } });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('NC_INTERNAL');
    expect(res.body).not.toContain('hunter2');
    expect(res.json().error.message).toContain('boom-1');
    const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.level === 50);
    expect(logged).toMatchObject({ correlationId: 'boom-1', err: { message: 'database password is hunter2' } });
  });

  it('answers a malformed URL with 400 NC_BAD_REQUEST', async () => {
    t = testApp();
    const res = await t.app.inject({ url: '/v1/tenants/%zz/api-keys', headers: t.asOperator() });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('NC_BAD_REQUEST');
    expect(res.headers['x-correlation-id']).toBeDefined();
  });

  it('renders every failure in the ErrorResponse shape', async () => {
    t = testApp({ extraPlugins: [probeRoutes] });
    for (const code of Object.keys(errorCatalog)) {
      const res = await t.app.inject({ url: `/v1/fail/${code}`, headers: t.asOperator() });
      expect(checkErrorResponse.Check(res.json()), code).toBe(true);
      expect(res.json().error.code).toBe(code);
    }
  });
});

describe('correlation ids', () => {
  it('echoes X-Correlation-Id, or answers with a new UUIDv7, and logs it on every line', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    t = testApp({ logger: { level: 'info', stream } });
    const echoed = await t.app.inject({ url: '/docs/json', headers: { 'x-correlation-id': 'req-42' } });
    expect(echoed.headers['x-correlation-id']).toBe('req-42');
    const fresh = await t.app.inject({ url: '/healthz' });
    expect(isEventId(fresh.headers['x-correlation-id'])).toBe(true);
    const forged = await t.app.inject({ url: '/healthz', headers: { 'x-correlation-id': 'a b\nfake log line' } });
    expect(isEventId(forged.headers['x-correlation-id'])).toBe(true);
    const entries = lines.map((line) => JSON.parse(line));
    const ofReq42 = entries.filter((entry) => entry.correlationId === 'req-42');
    expect(ofReq42.map((entry) => entry.msg)).toEqual(['incoming request', 'request completed']);
  });
});
