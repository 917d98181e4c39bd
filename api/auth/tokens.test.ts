import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createDecoder, createSigner } from 'fast-jwt';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../testing/test-app.ts';
import { fleetApp, seedApi, type FleetApp } from '../testing/fleet-app.ts';
import { createApiKeyStore } from './api-keys.ts';
import { createCredentialCache } from './credential-cache.ts';
import { auth } from './plugin.ts';
import { createTokenVerifier, kidOf, type TokenVerifier } from './token-verifier.ts';
import { signToken } from './tokens.ts';
import { openApiDatabase } from '../api-db.ts';
import { embeddedChildEnv } from '../testing/child-env.ts';

let t: TestApp | undefined;
let f: FleetApp | undefined;
afterEach(async () => {
  await t?.close();
  await f?.close();
  t = undefined;
  f = undefined;
});

const OLD = 'o'.repeat(40);
const NEW = 'n'.repeat(40);
type SignOptions = { expiresIn?: number; clockTimestamp?: number; iss?: string; aud?: string; kid?: string; noTimestamp?: boolean };
const sign = (secret: string, claims: Record<string, unknown>, options: SignOptions = {}) =>
  createSigner({ key: secret, algorithm: 'HS256', expiresIn: 60_000, iss: 'novacron', aud: 'novacron-api', kid: kidOf(secret), ...options })(claims);
const operator = { sub: 'alice', role: 'operator' };

async function whoami(app: TestApp, token: string) {
  const res = await app.app.inject({ url: '/v1/tenants/acme/api-keys/none', headers: { authorization: `Bearer ${token}` } });
  // No such route: 404 after authentication, 401 before.
  return { status: res.statusCode, message: res.statusCode === 401 ? String(res.json().error.message) : '' };
}

describe('JWT claims (issue 11 item 5)', () => {
  it('refuses tokens without exp, of another issuer or audience, and living longer than NOVACRON_JWT_MAX_TTL_SECONDS', async () => {
    t = testApp({ env: { NOVACRON_JWT_SECRET: NEW } });
    expect(await whoami(t, sign(NEW, operator))).toEqual({ status: 404, message: '' });
    const refused: Array<[string, string]> = [
      [createSigner({ key: NEW, algorithm: 'HS256', iss: 'novacron', aud: 'novacron-api', kid: kidOf(NEW) })(operator), 'must carry exp'],
      [sign(NEW, operator, { iss: 'someone-else' }), 'not meant for this server'],
      [sign(NEW, operator, { aud: 'another-api' }), 'not meant for this server'],
      [createSigner({ key: NEW, algorithm: 'HS256', expiresIn: 60_000 })(operator), 'must carry exp, iss and aud'],
      [sign(NEW, operator, { expiresIn: 25 * 3600_000 }), 'lives longer'],
      // No iat: exp − now decides.
      [sign(NEW, operator, { expiresIn: 25 * 3600_000, noTimestamp: true }), 'lives longer'],
    ];
    for (const [token, message] of refused) expect(await whoami(t, token), message).toEqual({ status: 401, message: expect.stringContaining(message) });
    await t.close();
    t = testApp({ env: { NOVACRON_JWT_SECRET: NEW, NOVACRON_JWT_MAX_TTL_SECONDS: String(26 * 3600), NOVACRON_JWT_ISSUER: 'idp.example', NOVACRON_JWT_AUDIENCE: 'fleet' } });
    expect((await whoami(t, sign(NEW, operator, { expiresIn: 25 * 3600_000, iss: 'idp.example', aud: 'fleet' }))).status).toBe(404);
    expect((await whoami(t, sign(NEW, operator))).status).toBe(401);
  });

  it('allows NOVACRON_JWT_CLOCK_SKEW_SECONDS of clock skew on exp, no more', async () => {
    t = testApp({ env: { NOVACRON_JWT_SECRET: NEW } });
    const expiredAgo = (seconds: number) => sign(NEW, operator, { expiresIn: 60_000, clockTimestamp: Date.now() - 60_000 - seconds * 1000 });
    expect((await whoami(t, expiredAgo(10))).status).toBe(404);
    expect(await whoami(t, expiredAgo(45))).toEqual({ status: 401, message: expect.stringContaining('expired') });
  });

  it('verifies tokens of the current and the previous secret by kid; novacron token signs with the current one', async () => {
    const before = signToken(OLD, { subject: 'alice', role: 'operator', ttlSeconds: 600 });
    t = testApp({ env: { NOVACRON_JWT_SECRET: NEW, NOVACRON_JWT_PREVIOUS_SECRET: OLD } });
    expect((await whoami(t, before)).status).toBe(404);
    const after = signToken(NEW, { subject: 'alice', role: 'operator', ttlSeconds: 600 });
    expect(JSON.parse(Buffer.from(after.split('.')[0] ?? '', 'base64url').toString())).toMatchObject({ alg: 'HS256', kid: kidOf(NEW) });
    expect((await whoami(t, after)).status).toBe(404);
    // A kid naming neither key, or the old key's kid on a token signed with something else.
    expect(await whoami(t, sign('x'.repeat(40), operator))).toEqual({ status: 401, message: expect.stringContaining('kid') });
    expect((await whoami(t, sign('x'.repeat(40), operator, { kid: kidOf(OLD) }))).status).toBe(401);
    await t.close();
    // Once the previous secret is dropped, its tokens stop working.
    t = testApp({ env: { NOVACRON_JWT_SECRET: NEW } });
    expect((await whoami(t, before)).status).toBe(401);
    expect((await whoami(t, after)).status).toBe(404);
  });
});

describe('novacron token', () => {
  const bin = fileURLToPath(new URL('../../bin/novacron.mjs', import.meta.url));
  const novacron = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [bin, 'token', ...args], { env: embeddedChildEnv({ NOVACRON_JWT_SECRET: NEW, NOVACRON_DATA_DIR: tmpdir(), ...env }), encoding: 'utf8', timeout: 20_000 });

  it('signs iss, aud and kid of the settings, and refuses a --ttl above NOVACRON_JWT_MAX_TTL_SECONDS', () => {
    const run = novacron(['--role', 'operator'], { NOVACRON_JWT_ISSUER: 'idp.example', NOVACRON_JWT_AUDIENCE: 'fleet' });
    expect(run.status).toBe(0);
    const token = run.stdout.trim();
    expect(createDecoder({ complete: true })(token)).toMatchObject({ header: { kid: kidOf(NEW) }, payload: { iss: 'idp.example', aud: 'fleet', role: 'operator' } });
    const tooLong = novacron(['--role', 'operator', '--ttl', '2d'], {});
    expect(tooLong.status).toBe(2);
    expect(tooLong.stderr).toContain('NOVACRON_JWT_MAX_TTL_SECONDS');
  });
});

describe('credentials of a deleted tenant', () => {
  it('stop working at once, JWTs and API keys, even when verified (cached) before', async () => {
    f = await fleetApp();
    await seedApi(f, { nodes: 1 });
    const key = (await f.setup('POST', '/v1/tenants/acme/api-keys', { role: 'tenant-admin' })).key as string;
    const jwt = f.tenant('acme');
    const asKey = { 'x-api-key': key };
    for (const headers of [jwt, asKey]) expect((await f.app.inject({ url: '/v1/vms', headers })).statusCode).toBe(200);
    await f.setup('DELETE', '/v1/tenants/acme');
    for (const headers of [jwt, asKey]) {
      const res = await f.app.inject({ url: '/v1/vms', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toEqual({ code: 'NC_UNAUTHENTICATED', message: 'tenant acme was deleted: its tokens and API keys no longer work' });
    }
    expect((await f.app.inject({ url: '/v1/vms', headers: f.tenant('globex') })).statusCode).toBe(200);
  });
});

describe('verified-credential cache', () => {
  /** The auth plugin alone, with a verifier that counts its calls. */
  async function countingApp(env: { skewSeconds?: number } = {}) {
    const policy = { issuer: 'novacron', audience: 'novacron-api', maxTtlSeconds: 86_400, clockSkewSeconds: env.skewSeconds ?? 30 };
    const real = createTokenVerifier({ current: NEW, policy });
    const calls = { count: 0 };
    const verifier: TokenVerifier = { verify: (token) => (calls.count++, real.verify(token)) };
    const db = openApiDatabase(':memory:', { sync: 'normal' });
    const apiKeys = createApiKeyStore(db);
    const cache = createCredentialCache({ max: 100, apiKeyTtlMs: 10_000 });
    const app = Fastify();
    await app.register(auth, { verifier, apiKeys, cache, isTenantDeleted: () => false, failures: null });
    app.get('/v1/me', async (request) => request.principal);
    app.addHook('onClose', async () => db.close());
    return { app, calls, cache };
  }

  it('verifies a token once, then serves its principal from the cache', async () => {
    const { app, calls } = await countingApp();
    const headers = { authorization: `Bearer ${signToken(NEW, { subject: 'a', role: 'tenant-user', tenantId: 'acme', ttlSeconds: 600 })}` };
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: '/v1/me', headers })).json()).toEqual({ subject: 'a', role: 'tenant-user', tenantId: 'acme' });
    expect(calls.count).toBe(1);
    await app.close();
  });

  it('never keeps a token past its exp', async () => {
    const { app } = await countingApp({ skewSeconds: 0 });
    const token = signToken(NEW, { subject: 'a', role: 'operator', ttlSeconds: 1 });
    const exp = Number(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).exp) * 1000;
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/v1/me', headers })).statusCode).toBe(200);
    let status = 200;
    while (status === 200 && Date.now() < exp + 10_000) status = (await app.inject({ url: '/v1/me', headers })).statusCode;
    expect(status).toBe(401);
    // Refused from the moment of exp, not later.
    expect(Date.now()).toBeLessThan(exp + 2_000);
    await app.close();
  });

  it('is bounded and drops entries by API key and by tenant', () => {
    let now = 1_000;
    const cache = createCredentialCache({ max: 3, apiKeyTtlMs: 500, now: () => now });
    const p = (tenantId: string) => ({ subject: 's', role: 'tenant-user' as const, tenantId });
    cache.set('k1', p('acme'), Number.POSITIVE_INFINITY, 'id1');
    cache.set('j1', p('acme'), 5_000);
    cache.set('j2', p('globex'), 5_000);
    cache.set('j3', p('globex'), 5_000);
    expect(cache.size).toBe(3);
    expect(cache.get('k1')).toBeUndefined();
    cache.forgetTenant('globex');
    expect([cache.get('j1'), cache.get('j2'), cache.get('j3')]).toEqual([p('acme'), undefined, undefined]);
    cache.set('k1', p('acme'), Number.POSITIVE_INFINITY, 'id1');
    cache.forgetApiKey('id1');
    expect(cache.get('k1')).toBeUndefined();
    cache.set('k1', p('acme'), Number.POSITIVE_INFINITY, 'id1');
    now += 500;
    expect(cache.get('k1')).toBeUndefined();
    now = 5_000;
    expect(cache.get('j1')).toBeUndefined();
  });
});
