/**
 * The audit trail (issue 11 item 9): privileged actions recorded as
 * AuditRecorded events — who, what, when, from where — readable by the
 * tenant's admins for their own tenant and by operators for all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
let keyId: string;

beforeAll(async () => {
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000', NOVACRON_FORECAST_INTERVAL_MS: '86400000' });
  await seedApi(f, { nodes: 1 });
  const created = await f.app.inject({
    method: 'POST',
    url: '/v1/tenants/acme/api-keys',
    headers: { ...f.operator, 'idempotency-key': 'audit-key-1', 'x-forwarded-for': '203.0.113.9' },
    payload: { role: 'tenant-user', name: 'ci' },
    remoteAddress: '198.51.100.7',
  });
  expect(created.statusCode).toBe(201);
  keyId = created.json().id;
});
afterAll(() => f.close());

type Item = { action: string; tenantId: string | null; target: string; source: string | null; details: string | null; actor: string; occurredAt: string; position: number };
const trail = async (url: string, headers: Record<string, string>) => {
  const res = await f.app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, body: res.json() as { items: Item[]; nextCursor: string | null; error?: { code: string } } };
};

describe('the audit trail', () => {
  it("records an API key's creation: who, what, when, from where — and never the key", async () => {
    const { status, body } = await trail('/v1/tenants/acme/audit', f.operator);
    expect(status).toBe(200);
    expect(body.items).toEqual([
      expect.objectContaining({ action: 'api_key.created', tenantId: 'acme', target: keyId, source: '198.51.100.7', details: 'role tenant-user', actor: 'operator:op' }),
    ]);
    expect(Date.parse(body.items[0]!.occurredAt)).toBeGreaterThan(Date.now() - 60_000);
    const raw = await f.platform.store.readStream('audit-acme');
    expect(JSON.stringify(raw)).not.toMatch(/nck_/);
  });

  it('records an Idempotency-Key replay once, a revocation once, however often it is repeated', async () => {
    const again = await f.app.inject({ method: 'POST', url: '/v1/tenants/acme/api-keys', headers: { ...f.operator, 'idempotency-key': 'audit-key-1' }, payload: { role: 'tenant-user', name: 'ci' } });
    expect(again.statusCode).toBe(201);
    for (let i = 0; i < 2; i++) expect((await f.app.inject({ method: 'DELETE', url: `/v1/api-keys/${keyId}`, headers: f.operator })).statusCode).toBe(200);
    const { body } = await trail('/v1/tenants/acme/audit', f.operator);
    expect(body.items.map((i) => i.action)).toEqual(['api_key.revoked', 'api_key.created']);
  });

  it("shows the tenant's admins their own trail with operators as `operator` and no operator address; others get 404 as for no tenant; tenant users 403", async () => {
    const mine = await trail('/v1/tenants/acme/audit', f.tenant('acme'));
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((i) => [i.action, i.actor, i.source])).toEqual([
      ['api_key.revoked', 'operator', null],
      ['api_key.created', 'operator', null],
    ]);
    const foreign = await trail('/v1/tenants/acme/audit', f.tenant('globex'));
    const never = await trail('/v1/tenants/nobody/audit', f.tenant('globex'));
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(JSON.parse(JSON.stringify(never.body).replaceAll('nobody', 'acme')));
    expect((await trail('/v1/tenants/acme/audit', f.tenant('acme', 'tenant-user'))).status).toBe(403);
    expect((await trail('/v1/tenants/nobody/audit', f.operator)).status).toBe(404);
    expect((await trail('/v1/audit', f.tenant('acme'))).status).toBe(403);
  });

  it("records a tenant's deletion; operators read every tenant's trail newest first, page by page", async () => {
    expect((await f.app.inject({ method: 'DELETE', url: '/v1/tenants/globex', headers: { ...f.operator, 'x-forwarded-for': '203.0.113.1' } })).statusCode).toBe(200);
    const first = await trail('/v1/audit?limit=2', f.operator);
    expect(first.status).toBe(200);
    expect(first.body.items.map((i) => [i.action, i.tenantId, i.target])).toEqual([
      ['tenant.deleted', 'globex', 'globex'],
      ['api_key.revoked', 'acme', keyId],
    ]);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await trail(`/v1/audit?limit=2&cursor=${first.body.nextCursor}`, f.operator);
    expect(second.body.items.map((i) => i.action)).toEqual(['api_key.created']);
    // The deleted tenant's trail stays readable by operators.
    expect((await trail('/v1/tenants/globex/audit', f.operator)).body.items.map((i) => i.action)).toEqual(['tenant.deleted']);
  });

  it('pages a tenant trail by revision', async () => {
    const first = await trail('/v1/tenants/acme/audit?limit=1', f.operator);
    expect(first.body.items.map((i) => i.action)).toEqual(['api_key.revoked']);
    const second = await trail(`/v1/tenants/acme/audit?limit=1&cursor=${first.body.nextCursor}`, f.operator);
    expect(second.body.items.map((i) => i.action)).toEqual(['api_key.created']);
    expect(second.body.nextCursor).toBeNull();
    for (const bad of ['cursor=-1', 'cursor=abc', 'limit=0', 'limit=501', 'limit=1.5', 'extra=1']) {
      const res = await f.app.inject({ method: 'GET', url: `/v1/tenants/acme/audit?${bad}`, headers: f.operator });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe('NC_VALIDATION');
    }
  });
});
