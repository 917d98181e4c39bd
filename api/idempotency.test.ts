import { Type } from 'typebox';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NovaCronError } from '../streams/errors/index.ts';
import type { RoutePlugin } from './app.ts';
import { errorResponses } from './http/error-schema.ts';
import { testApp, type TestApp } from './testing/test-app.ts';

/** A test-only command route counting how often its handler runs; `gate` holds it until released. */
function countingRoutes() {
  const state: { runs: number; gate: Promise<void> | null; failNext: 'conflict' | 'crash' | null } = { runs: 0, gate: null, failNext: null };
  const plugin: RoutePlugin = async (app) => {
    app.post(
      '/v1/things',
      {
        schema: {
          body: Type.Object({ name: Type.String() }),
          response: { 201: Type.Object({ run: Type.Integer(), name: Type.String() }), ...errorResponses(400, 401, 409, 422) },
        },
      },
      async (request, reply) => {
        state.runs += 1;
        const run = state.runs;
        if (state.gate !== null) await state.gate;
        const fail = state.failNext;
        state.failNext = null;
        if (fail === 'conflict') throw new NovaCronError('NC_ALREADY_EXISTS', `thing ${request.body.name} already exists`);
        if (fail === 'crash') throw new Error('transient');
        return reply.code(201).header('location', `/v1/things/${run}`).send({ run, name: request.body.name });
      },
    );
    app.get('/v1/things', { schema: { response: { 200: Type.Object({ runs: Type.Integer() }), ...errorResponses(401) } } }, async () => ({ runs: state.runs }));
  };
  return { state, plugin };
}

let t: TestApp;
afterEach(async () => t?.close());

describe('Idempotency-Key', () => {
  it('replays the stored answer with Idempotent-Replayed: true, running the handler once', async () => {
    const { state, plugin } = countingRoutes();
    t = testApp({ extraPlugins: [plugin] });
    const send = () => t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...t.asOperator(), 'idempotency-key': 'create-1' }, payload: { name: 'a' } });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers.location).toBe('/v1/things/1');
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(state.runs).toBe(1);
    // Without a key, or with another key, the handler runs.
    await t.app.inject({ method: 'POST', url: '/v1/things', headers: t.asOperator(), payload: { name: 'a' } });
    await t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...t.asOperator(), 'idempotency-key': 'create-2' }, payload: { name: 'a' } });
    expect(state.runs).toBe(3);
  });

  it('runs two concurrent identical requests once: the second waits for the first', async () => {
    const { state, plugin } = countingRoutes();
    t = testApp({ extraPlugins: [plugin] });
    let release = () => {};
    state.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const send = () => t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...t.asOperator(), 'idempotency-key': 'same' }, payload: { name: 'b' } });
    const both = Promise.all([send(), send()]);
    await vi.waitFor(() => expect(state.runs).toBe(1));
    release();
    const [a, b] = await both;
    expect(state.runs).toBe(1);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.body).toBe(b.body);
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].sort()).toEqual(['true', undefined]);
  });

  it('answers 422 NC_IDEMPOTENCY_KEY_REUSED for the same key on another request', async () => {
    const { state, plugin } = countingRoutes();
    t = testApp({ extraPlugins: [plugin] });
    const headers = { ...t.asOperator(), 'idempotency-key': 'k' };
    await t.app.inject({ method: 'POST', url: '/v1/things', headers, payload: { name: 'a' } });
    const otherBody = await t.app.inject({ method: 'POST', url: '/v1/things', headers, payload: { name: 'z' } });
    expect(otherBody.statusCode).toBe(422);
    expect(otherBody.json().error.code).toBe('NC_IDEMPOTENCY_KEY_REUSED');
    const otherUrl = await t.app.inject({ method: 'POST', url: '/v1/things?x=1', headers, payload: { name: 'a' } });
    expect(otherUrl.statusCode).toBe(422);
    expect(state.runs).toBe(1);
    // The same JSON with its keys in another order is the same request.
    const reordered = await t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...headers, 'content-type': 'application/json' }, payload: ' { "name" : "a" } ' });
    expect(reordered.headers['idempotent-replayed']).toBe('true');
  });

  it('answers 422 to a concurrent duplicate with another body', async () => {
    const { state, plugin } = countingRoutes();
    t = testApp({ extraPlugins: [plugin] });
    let release = () => {};
    state.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const headers = { ...t.asOperator(), 'idempotency-key': 'race' };
    const first = t.app.inject({ method: 'POST', url: '/v1/things', headers, payload: { name: 'a' } });
    await vi.waitFor(() => expect(state.runs).toBe(1));
    const second = await t.app.inject({ method: 'POST', url: '/v1/things', headers, payload: { name: 'b' } });
    expect(second.statusCode).toBe(422);
    release();
    expect((await first).statusCode).toBe(201);
  });

  it('keeps keys apart per principal', async () => {
    const { state, plugin } = countingRoutes();
    t = testApp({ extraPlugins: [plugin] });
    const send = (auth: { authorization: string }) =>
      t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...auth, 'idempotency-key': 'shared' }, payload: { name: 'a' } });
    await send(t.asOperator('alice'));
    await send(t.asOperator('bob'));
    await send(t.asTenant('acme', 'tenant-admin', 'alice'));
    expect(state.runs).toBe(3);
  });

  it('stores 4xx answers but not 5xx ones, which may be retried', async () => {
    const { state, plugin } = countingRoutes();
    t = testApp({ extraPlugins: [plugin] });
    const send = (key: string) => t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...t.asOperator(), 'idempotency-key': key }, payload: { name: 'a' } });
    state.failNext = 'conflict';
    expect((await send('four')).statusCode).toBe(409);
    const replayed = await send('four');
    expect(replayed.statusCode).toBe(409);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(state.runs).toBe(1);

    state.failNext = 'crash';
    expect((await send('five')).statusCode).toBe(500);
    const retried = await send('five');
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(state.runs).toBe(3);
  });

  it('expires keys after NOVACRON_IDEMPOTENCY_TTL_HOURS', async () => {
    const { state, plugin } = countingRoutes();
    let clock = Date.parse('2030-01-01T00:00:00Z');
    t = testApp({ extraPlugins: [plugin], now: () => clock, env: { NOVACRON_IDEMPOTENCY_TTL_HOURS: '2' } });
    const send = () => t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...t.asOperator(), 'idempotency-key': 'ttl' }, payload: { name: 'a' } });
    await send();
    clock += 2 * 3_600_000 - 1;
    expect((await send()).headers['idempotent-replayed']).toBe('true');
    clock += 1;
    expect((await send()).headers['idempotent-replayed']).toBeUndefined();
    expect(state.runs).toBe(2);
  });

  it('rejects a malformed key with 400 and ignores keys on reads', async () => {
    const { state, plugin } = countingRoutes();
    t = testApp({ extraPlugins: [plugin] });
    for (const key of ['x'.repeat(256), 'has space', 'caf\u00e9']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/things', headers: { ...t.asOperator(), 'idempotency-key': key }, payload: { name: 'a' } });
      expect(res.statusCode, key).toBe(400);
      expect(res.json().error.details.field).toBe('idempotency-key');
    }
    expect(state.runs).toBe(0);
    const read = () => t.app.inject({ url: '/v1/things', headers: { ...t.asOperator(), 'idempotency-key': 'r' } });
    expect((await read()).headers['idempotent-replayed']).toBeUndefined();
    expect((await read()).headers['idempotent-replayed']).toBeUndefined();
  });
});
