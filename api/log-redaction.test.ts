import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './testing/test-app.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('logs', () => {
  it('carry no bearer token, API key secret or Idempotency-Key', async () => {
    let lines = '';
    const stream = new Writable({ write(chunk, _encoding, done) { lines += chunk.toString(); done(); } });
    t = testApp({ logger: { level: 'trace', stream } });
    const operator = t.asOperator();
    const headers = { ...operator, 'idempotency-key': 'idem-secret-123' };
    const created = await t.app.inject({ method: 'POST', url: '/v1/tenants/acme/api-keys', headers, payload: { role: 'tenant-user' } });
    expect(created.statusCode).toBe(201);
    await t.app.inject({ method: 'POST', url: '/v1/tenants/acme/api-keys', headers, payload: { role: 'tenant-user' } });
    const key: string = created.json().key;
    t.app.log.info({ req: { headers: { authorization: operator.authorization, 'x-api-key': key } } }, 'a request logged whole');
    await t.app.inject({ url: '/v1/tenants/acme/vms', headers: { 'x-api-key': key } });
    expect(lines).toContain('replaying the stored answer');
    expect(lines).not.toContain(operator.authorization.slice('Bearer '.length));
    expect(lines).not.toContain(key.split('_')[2]);
    expect(lines).not.toContain('idem-secret-123');
  });
});
