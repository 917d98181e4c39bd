import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSigner } from 'fast-jwt';
import { Type } from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoutePlugin } from './app.ts';
import { assertTenantAccess, principalOf, requireRoles } from './auth/guards.ts';
import { errorResponses } from './http/error-schema.ts';
import { testApp, type TestApp } from './testing/test-app.ts';

const Principal = Type.Object({ subject: Type.String(), role: Type.String(), tenantId: Type.Union([Type.String(), Type.Null()]) });

/** Test-only routes guarded like the command routes will be. */
const guardedRoutes: RoutePlugin = async (app) => {
  app.get(
    '/v1/whoami',
    { schema: { response: { 200: Principal, ...errorResponses(401) } } },
    async (request) => principalOf(request),
  );
  app.post(
    '/v1/operator-only',
    {
      onRequest: requireRoles('operator'),
      schema: { body: Type.Object({ n: Type.Integer() }), response: { 200: Type.Object({ ok: Type.Boolean() }), ...errorResponses(400, 401, 403) } },
    },
    async () => ({ ok: true }),
  );
  app.get(
    '/v1/tenants/:id/things/:thing',
    {
      onRequest: requireRoles('operator', 'tenant-admin', 'tenant-user'),
      schema: { params: Type.Object({ id: Type.String(), thing: Type.String() }), response: { 200: Type.Object({ thing: Type.String() }), ...errorResponses(401, 403, 404) } },
    },
    async (request) => {
      assertTenantAccess(principalOf(request), request.params.id, { entity: 'thing', id: request.params.thing });
      return { thing: request.params.thing };
    },
  );
};

let t: TestApp;
afterEach(async () => t?.close());

// Tokens as `novacron token` signs them (iss and aud of the default settings), unless told otherwise.
const sign = (secret: string, claims: Record<string, unknown>, options: { expiresIn?: number; clockTimestamp?: number; iss?: string; aud?: string; kid?: string } = {}) =>
  createSigner({ key: secret, algorithm: 'HS256', expiresIn: 60_000, iss: 'novacron', aud: 'novacron-api', ...options })(claims);

describe('JWT authentication', () => {
  it('answers 401 without credentials, with a bad token and with an expired one', async () => {
    t = testApp({ extraPlugins: [guardedRoutes] });
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'authentication required'],
      [{ authorization: 'Bearer not.a.jwt' }, 'the token is invalid'],
      [{ authorization: `Bearer ${sign('another-secret-another-secret-another', { sub: 'x', role: 'operator' })}` }, 'the token is invalid'],
      [{ authorization: `Bearer ${sign(t.secret, { sub: 'x', role: 'operator' }, { expiresIn: 1000, clockTimestamp: Date.now() - 60_000 })}` }, 'the token has expired'],
      [{ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'must be "Bearer <token>"'],
      [{ authorization: `Bearer ${sign(t.secret, { sub: 'x', role: 'root' })}` }, 'claims'],
      [{ authorization: `Bearer ${sign(t.secret, { sub: 'x', role: 'tenant-admin' })}` }, 'tenantId'],
    ];
    for (const [headers, message] of cases) {
      const res = await t.app.inject({ url: '/v1/whoami', headers });
      expect(res.statusCode, message).toBe(401);
      expect(res.json().error.code).toBe('NC_UNAUTHENTICATED');
      expect(res.json().error.message).toContain(message);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="novacron"');
    }
  });

  it('protects /v1 routes however their path is spelled', async () => {
    t = testApp({ extraPlugins: [guardedRoutes] });
    for (const url of ['/v1/whoami', '/v1/whoami?x=1', '/%761/whoami', '/v1/%77hoami', '/v1//whoami', '/V1/whoami']) {
      const res = await t.app.inject({ url });
      expect([401, 404], url).toContain(res.statusCode);
    }
  });

  it('decorates the request with the principal', async () => {
    t = testApp({ extraPlugins: [guardedRoutes] });
    expect((await t.app.inject({ url: '/v1/whoami', headers: t.asOperator('alice') })).json()).toEqual({ subject: 'alice', role: 'operator', tenantId: null });
    expect((await t.app.inject({ url: '/v1/whoami', headers: t.asTenant('acme', 'tenant-user', 'bob') })).json()).toEqual({
      subject: 'bob',
      role: 'tenant-user',
      tenantId: 'acme',
    });
  });

  it('answers 403 NC_FORBIDDEN when a tenant role calls an operator route, before reading the body', async () => {
    t = testApp({ extraPlugins: [guardedRoutes] });
    const res = await t.app.inject({ method: 'POST', url: '/v1/operator-only', headers: t.asTenant('acme'), payload: { n: 'not a number' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toEqual({
      code: 'NC_FORBIDDEN',
      message: 'the tenant-admin role may not call this route (allowed: operator)',
      details: { role: 'tenant-admin', allowed: ['operator'] },
    });
    expect((await t.app.inject({ method: 'POST', url: '/v1/operator-only', headers: t.asOperator(), payload: { n: 1 } })).statusCode).toBe(200);
  });

  it("answers 404, not 403, when a tenant touches another tenant's resource", async () => {
    t = testApp({ extraPlugins: [guardedRoutes] });
    const own = await t.app.inject({ url: '/v1/tenants/acme/things/t1', headers: t.asTenant('acme', 'tenant-user') });
    expect(own.statusCode).toBe(200);
    const other = await t.app.inject({ url: '/v1/tenants/globex/things/t1', headers: t.asTenant('acme', 'tenant-user') });
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ error: { code: 'NC_NOT_FOUND', message: 'thing t1 does not exist', details: { entity: 'thing', id: 't1' } } });
    expect((await t.app.inject({ url: '/v1/tenants/globex/things/t1', headers: t.asOperator() })).statusCode).toBe(200);
  });

  it('leaves public routes public, whatever credentials come along', async () => {
    t = testApp();
    for (const url of ['/healthz', '/readyz', '/metrics', '/docs/json']) {
      const res = await t.app.inject({ url, headers: { authorization: 'Bearer garbage', 'x-api-key': 'garbage' } });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('generates the JWT secret once into <dataDir>/jwt.secret with mode 0600, or takes NOVACRON_JWT_SECRET', async () => {
    t = testApp();
    const path = join(t.dataDir, 'jwt.secret');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(t.secret);
    await t.close();

    const secret = 'x'.repeat(40);
    t = testApp({ env: { NOVACRON_JWT_SECRET: secret }, extraPlugins: [guardedRoutes] });
    expect(t.secret).toBe(secret);
    const res = await t.app.inject({ url: '/v1/whoami', headers: { authorization: `Bearer ${sign(secret, { sub: 's', role: 'operator' })}` } });
    expect(res.statusCode).toBe(200);
  });
});

describe('API keys', () => {
  const create = (body: Record<string, unknown>, headers: Record<string, string>, tenant = 'acme') =>
    t.app.inject({ method: 'POST', url: `/v1/tenants/${tenant}/api-keys`, headers, payload: body });

  it('are created by an operator, shown once, used as X-API-Key, and revoked', async () => {
    t = testApp({ extraPlugins: [guardedRoutes] });
    const created = await create({ role: 'tenant-admin', name: 'ci' }, t.asOperator());
    expect(created.statusCode).toBe(201);
    const { id, key, role, tenantId, name } = created.json();
    expect({ role, tenantId, name }).toEqual({ role: 'tenant-admin', tenantId: 'acme', name: 'ci' });
    expect(key).toMatch(new RegExp(`^nck_${id}_[A-Za-z0-9_-]{43}$`));

    const whoami = await t.app.inject({ url: '/v1/whoami', headers: { 'x-api-key': key } });
    expect(whoami.json()).toEqual({ subject: `apikey:${id}`, role: 'tenant-admin', tenantId: 'acme' });
    const forbidden = await t.app.inject({ method: 'POST', url: '/v1/operator-only', headers: { 'x-api-key': key }, payload: { n: 1 } });
    expect(forbidden.statusCode).toBe(403);

    const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect((await t.app.inject({ url: '/v1/whoami', headers: { 'x-api-key': tampered } })).statusCode).toBe(401);

    const revoked = await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: t.asOperator() });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ id, tenantId: 'acme', role: 'tenant-admin' });
    expect(revoked.json().revokedAt).toEqual(expect.any(String));
    const after = await t.app.inject({ url: '/v1/whoami', headers: { 'x-api-key': key } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toEqual({ code: 'NC_UNAUTHENTICATED', message: 'the API key is invalid or revoked' });
  });

  it('are stored hashed: the database never holds the key', async () => {
    t = testApp();
    const { id, key } = (await create({ role: 'tenant-user' }, t.asOperator())).json();
    const secret = key.slice(`nck_${id}_`.length);
    for (const file of readdirSync(t.dataDir).filter((name) => name.startsWith('api.db'))) {
      const raw = readFileSync(join(t.dataDir, file));
      expect(raw.includes(key), file).toBe(false);
      expect(raw.includes(secret), file).toBe(false);
    }
    const db = new Database(join(t.dataDir, 'api.db'), { readonly: true });
    const row = db.prepare<[string], { secret_sha256: Buffer }>('SELECT secret_sha256 FROM api_keys WHERE id = ?').get(id);
    db.close();
    expect(row?.secret_sha256.equals(createHash('sha256').update(secret).digest())).toBe(true);
  });

  it('are refused to non-operators, for unknown tenants and with a bad role', async () => {
    t = testApp();
    expect((await create({ role: 'tenant-user' }, t.asTenant('acme'))).statusCode).toBe(403);
    const unknown = await create({ role: 'tenant-user' }, t.asOperator(), 'initech');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toEqual({ code: 'NC_NOT_FOUND', message: 'tenant initech does not exist', details: { entity: 'tenant', id: 'initech' } });
    const badRole = await create({ role: 'operator' }, t.asOperator());
    expect(badRole.statusCode).toBe(400);
    expect(badRole.json().error.details.field).toBe('role');
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/api-keys/0123456789abcdef', headers: t.asOperator() })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/api-keys/nope', headers: t.asOperator() })).statusCode).toBe(400);
  });
});
