/**
 * Schema-driven fuzz of the HTTP API (issue 11, "Must show"): requests are
 * generated from the OpenAPI document the app serves — every operation, every
 * path and query parameter and body field, valid values from the schemas and
 * mutated ones (wrong types, boundaries, huge strings, deep nesting, lone
 * surrogates, odd headers, credentials of other tenants). Each answer must be
 * below 500 (but for 503 NC_PROJECTION_LAGGING to a session read told to wait for a
 * position the log has not reached, which is how that is answered); a request that is not answered 2xx records nothing (the event
 * store's head does not move, but for VM creation, whose saga may reserve and
 * release); afterwards, every region and tenant reads back as the last 2xx
 * answer about it said, and ids no 2xx answer created do not exist.
 *
 * NOVACRON_FUZZ_RUNS sets the number of requests (default 10,000).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const RUNS = Number(process.env.NOVACRON_FUZZ_RUNS ?? 10_000);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: Json[];
  const?: Json;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}
interface Parameter { in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema: Schema }
interface Operation { method: string; path: string; parameters: Parameter[]; body: Schema | null }

/** Values that break assumptions, whatever the field. */
const junk: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, -0.0001, 1e308, -1e308, 2 ** 53, '', ' ', '0', 'true', 'null', '__proto__', '\u0000', 'x\ud800y', '\udc00', '😀', '../../etc/passwd', '%00', '<script>', '{}', []),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant('x'.repeat(70_000)),
  fc.integer({ min: 1, max: 40 }).map((depth) => { let v: Json = 1; for (let i = 0; i < depth; i++) v = [v]; return v; }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxKeys: 4 }) as fc.Arbitrary<Json>,
  fc.array(fc.integer(), { maxLength: 5 }),
);

/** Ids the fixtures hold, so that generated requests also hit existing things. */
const KNOWN = ['eu-west', 'ap-south', 'euw-c1', 'euw-n0', 'euw-n1', 'acme', 'globex', 'fz-r1', 'fz-t1', 'fz-c1', 'fz-n1'];

function stringFor(schema: Schema): fc.Arbitrary<string> {
  if (schema.pattern !== undefined) {
    const known = KNOWN.filter((id) => new RegExp(schema.pattern as string).test(id));
    const matching = fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 1000) && s.length >= (schema.minLength ?? 0));
    return known.length > 0 ? fc.oneof(fc.constantFrom(...known), matching) : matching;
  }
  if (schema.format === 'email') return fc.emailAddress();
  if (schema.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  const min = schema.minLength ?? 0;
  return fc.oneof(fc.constantFrom(...KNOWN.filter((id) => id.length >= min && id.length <= (schema.maxLength ?? 1000))), fc.string({ minLength: min, maxLength: Math.min(schema.maxLength ?? 30, 30) })).filter((s) => s.length >= min);
}

/** A value of the schema (valid as far as the schema says), or now and then (deeper down too) a junk one. */
function valueOf(schema: Schema, mutate: boolean, depth = 0): fc.Arbitrary<Json> {
  const valid = validOf(schema, mutate, depth);
  return mutate ? fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: junk }) : valid;
}

function validOf(schema: Schema, mutate: boolean, depth: number): fc.Arbitrary<Json> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => valueOf(s, mutate, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000);
      const max = schema.maximum ?? Math.max(min, 1000) + 1000;
      // Boundaries and their neighbours, and small values (the largest shard counts are slow to build, on purpose not every time).
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 64) }), fc.constantFrom(min, max, min - 1, max + 1));
    }
    case 'number': {
      const min = schema.minimum ?? -1e6;
      const max = schema.maximum ?? 1e6;
      return fc.oneof(fc.double({ min, max, noNaN: true }), fc.constantFrom(min, max));
    }
    case 'boolean':
      return fc.boolean();
    case 'string':
      return stringFor(schema);
    case 'array':
      return fc.array(valueOf(schema.items ?? {}, mutate, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'object': {
      if (depth > 4) return fc.constant({});
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<Json>> = {};
      for (const [name, property] of Object.entries(properties)) record[name] = valueOf(property, mutate, depth + 1);
      const requiredKeys = Object.keys(properties).filter((k) => required.has(k));
      const object = fc.record(record, { requiredKeys: mutate ? [] : requiredKeys }) as fc.Arbitrary<Record<string, Json>>;
      if (!mutate) return object;
      // Now and then an unknown field too.
      return fc.tuple(object, fc.option(fc.tuple(fc.string({ maxLength: 10 }), junk), { freq: 8 })).map(([o, extra]) => (extra === null ? o : { ...o, [extra[0]]: extra[1] }));
    }
    default:
      return junk;
  }
}

function operationsOf(spec: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema: Schema }> } }>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const upper = method.toUpperCase();
      // The feed is a stream that stays open: HEAD covers the route (its GET is the event-feed tests').
      const effective = path === '/v1/events' && upper === 'GET' ? 'HEAD' : upper;
      operations.push({ method: effective, path, parameters: op.parameters ?? [], body: op.requestBody?.content?.['application/json']?.schema ?? null });
    }
  }
  return operations;
}

/** URL-encoded; a lone surrogate (which encodeURIComponent refuses) as the bytes an encoder of UTF-16 would write: invalid UTF-8. */
function encoded(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return `${encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80`;
  }
}

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

const CALLERS = ['operator', 'acme-admin', 'acme-user', 'globex-admin', 'none', 'garbage'] as const;
type CallerName = (typeof CALLERS)[number];

function requestOf(op: Operation, auth: (caller: CallerName) => Record<string, string>): fc.Arbitrary<Request> {
  const mutate = fc.boolean();
  return mutate.chain((m) => {
    const pathParams = op.parameters.filter((p) => p.in === 'path');
    const queryParams = op.parameters.filter((p) => p.in === 'query');
    const paramValue = (p: Parameter) => (m ? fc.oneof({ weight: 5, arbitrary: valueOf(p.schema, false) }, { weight: 1, arbitrary: junk }) : valueOf(p.schema, false));
    const path = fc.tuple(...pathParams.map((p) => paramValue(p).map((v) => [p.name, v] as const)));
    const query = fc.tuple(...queryParams.map((p) => fc.option(paramValue(p), { freq: 2 }).map((v) => [p.name, v] as const)));
    const body = op.body === null ? fc.option(junk, { freq: 3 }) : fc.oneof({ weight: 8, arbitrary: valueOf(op.body, m) }, { weight: 1, arbitrary: junk });
    const rawBody = fc.oneof(
      { weight: 12, arbitrary: body.map((b) => (b === null || b === undefined ? undefined : JSON.stringify(b))) },
      { weight: 1, arbitrary: fc.constantFrom('{"a":', '{}', '', '[' .repeat(10_000) + ']'.repeat(10_000), '{"a":1,}', 'null', '\ufeff{}', '{"name":"x\\ud800"}') },
    );
    const headers = fc.record({
      caller: fc.oneof({ weight: 6, arbitrary: fc.constant<CallerName>('operator') }, { weight: 4, arbitrary: fc.constantFrom(...CALLERS) }),
      contentType: fc.oneof({ weight: 10, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('', 'text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'multipart/form-data; boundary=x') }),
      idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.constantFrom('k', 'x'.repeat(300), 'é', ' ')), { freq: 4 }),
      after: fc.option(fc.oneof(fc.nat().map(String), fc.constantFrom('-1', '1.5', 'abc', 'region-eu-west@0', 'tenant-acme@99999', 'vm-x@0', '9'.repeat(30))), { freq: 6 }),
      traceparent: fc.option(fc.constantFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'garbage', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-00'), { freq: 6 }),
      accept: fc.option(fc.constantFrom('text/event-stream', 'application/xml', '*/*'), { freq: 8 }),
    });
    return fc.tuple(path, query, rawBody, headers).map(([pathValues, queryValues, payload, h]) => {
      let url = op.path;
      for (const [name, value] of pathValues) url = url.replace(`{${name}}`, encoded(typeof value === 'string' ? value : JSON.stringify(value)));
      const search = new URLSearchParams();
      for (const [name, value] of queryValues) if (value !== null) search.append(name, typeof value === 'string' ? value : JSON.stringify(value));
      const qs = search.toString();
      const requestHeaders: Record<string, string> = { ...auth(h.caller) };
      if (payload !== undefined && h.contentType !== '') requestHeaders['content-type'] = h.contentType;
      if (h.idempotencyKey !== null) requestHeaders['idempotency-key'] = h.idempotencyKey;
      if (h.after !== null) requestHeaders['x-novacron-after'] = h.after;
      if (h.traceparent !== null) requestHeaders.traceparent = h.traceparent;
      if (h.accept !== null) requestHeaders.accept = h.accept;
      return { method: op.method, url: qs === '' ? url : `${url}?${qs}`, headers: requestHeaders, ...(payload === undefined ? {} : { payload }) };
    });
  });
}

let f: FleetApp;

beforeAll(async () => {
  f = await fleetApp({
    NOVACRON_SWEEP_INTERVAL_MS: '3600000',
    NOVACRON_FORECAST_INTERVAL_MS: '86400000',
    NOVACRON_RATE_LIMIT_RATE: '1000000',
    NOVACRON_RATE_LIMIT_BURST: '1000000',
    NOVACRON_AUTH_FAILURE_PER_MINUTE: '0',
    NOVACRON_SESSION_WAIT_MS: '20',
  });
  await seedApi(f, { nodes: 2 });
  // Start from projections that have applied the seed (the shard map's first rings are built in a
  // worker that boots meanwhile): a session read naming a seeded stream then never waits on them.
  const head = await f.platform.store.headPosition();
  for (const name of f.platform.projections.names) expect(await f.platform.projections.waitFor(name, head, 30_000)).toBe(true);
});
afterAll(() => f.close());

describe('schema-driven fuzz of the OpenAPI document', () => {
  it(`${RUNS} generated requests: no 5xx, refused requests record nothing, state reads back as the 2xx answers said`, async () => {
    const spec = (await f.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const operations = operationsOf(spec);
    expect(operations.length).toBeGreaterThan(35);
    const auth = (caller: CallerName): Record<string, string> =>
      caller === 'operator' ? f.operator
        : caller === 'acme-admin' ? f.tenant('acme')
          : caller === 'acme-user' ? f.tenant('acme', 'tenant-user')
            : caller === 'globex-admin' ? f.tenant('globex')
              : caller === 'garbage' ? { authorization: 'Bearer x.y.z', 'x-api-key': 'nck_nope' } : {};
    const requests = fc.oneof(...operations.map((op) => requestOf(op, auth)));

    const failures: string[] = [];
    const seen = new Map<string, number>();
    /** The last 2xx answer about each region and tenant (by id). */
    const lastRegion = new Map<string, unknown>();
    const lastTenant = new Map<string, unknown>();
    let head = await f.platform.store.headPosition();

    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        const res = await f.app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, ...(request.payload === undefined ? {} : { payload: request.payload }) });
        const route = `${request.method} ${res.statusCode}`;
        seen.set(route, (seen.get(route) ?? 0) + 1);
        // The one designed 5xx: a session read told to wait for a position the log has not reached (retriable, Retry-After).
        const waitsForFuture = res.statusCode === 503 && res.json().error?.code === 'NC_PROJECTION_LAGGING' && Number(request.headers['x-novacron-after']) > head;
        if (waitsForFuture) return;
        if (res.statusCode >= 500) failures.push(`${request.method} ${request.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`);
        expect(res.statusCode).toBeLessThan(500);
        const now = await f.platform.store.headPosition();
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        const isWrite = request.method !== 'GET' && request.method !== 'HEAD';
        if (!ok && !(request.method === 'POST' && request.url.startsWith('/v1/vms?') === false && request.url.split('?')[0] === '/v1/vms')) {
          expect({ request: `${request.method} ${request.url}`, status: res.statusCode, recorded: now - head }).toEqual({ request: `${request.method} ${request.url}`, status: res.statusCode, recorded: 0 });
        }
        if (ok && isWrite && res.headers['idempotent-replayed'] !== 'true') {
          const answer = res.json() as { region?: { id: string }; tenant?: { id: string } };
          if (answer.region !== undefined) lastRegion.set(answer.region.id, answer.region);
          if (answer.tenant !== undefined) lastTenant.set(answer.tenant.id, answer.tenant);
        }
        head = now;
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(failures).toEqual([]);

    // The state read back equals what the 2xx answers said (regions and tenants change only by their own commands; a tenant's usage by VM creations too).
    const strong = { ...f.operator };
    for (const [id, region] of lastRegion) {
      const res = await f.app.inject({ method: 'GET', url: `/v1/regions/${encodeURIComponent(id)}?consistency=strong`, headers: strong });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { region?: unknown };
      expect(body.region ?? body).toMatchObject(region as object);
    }
    for (const [id, tenant] of lastTenant) {
      const res = await f.app.inject({ method: 'GET', url: `/v1/tenants/${encodeURIComponent(id)}?consistency=strong`, headers: strong });
      expect(res.statusCode).toBe(200);
      const { usage: _usage, reservations: _reservations, ...stable } = tenant as Record<string, unknown>;
      const body = res.json() as { tenant?: unknown };
      expect(body.tenant ?? body).toMatchObject(stable);
    }
    // The list agrees with the single reads: every region listed was created by a 2xx answer (or the fixtures).
    const listed = (await f.app.inject({ method: 'GET', url: '/v1/regions?limit=500', headers: strong })).json() as { items: Array<{ id: string }> };
    for (const { id } of listed.items) expect(['eu-west', ...lastRegion.keys()]).toContain(id);
    console.log(`fuzz: ${RUNS} requests; answers by method and status:`, Object.fromEntries([...seen].sort()));
  }, 600_000);
});
