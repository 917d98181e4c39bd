import { afterEach, describe, expect, it } from 'vitest';
import { NovaCronError } from '../streams/errors/index.ts';
import { testApp, type TestApp } from './testing/test-app.ts';

let t: TestApp;
afterEach(async () => t?.close());

describe('/healthz and /readyz', () => {
  it('/healthz says the process is up', async () => {
    t = testApp();
    const res = await t.app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 with the head position while the event store answers', async () => {
    t = testApp();
    await t.platform.store.append('tenant-acme', [{ type: 'TenantReactivated', data: { tenantId: 'acme' } }]);
    const res = await t.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' }); // anyone may call it: no head position
  });

  it('/readyz answers 503 with Retry-After when the event store does not answer', async () => {
    t = testApp();
    await t.platform.store.close();
    const res = await t.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error.code).toBe('NC_STORE_UNAVAILABLE');
  });
});

describe('/metrics', () => {
  it('serves Prometheus text: default metrics, HTTP requests by route, method and status, and the command metrics', async () => {
    t = testApp();
    await t.app.inject({ url: '/healthz' });
    await t.app.inject({ url: '/healthz' });
    await t.app.inject({ url: '/nowhere' });
    await t.app.inject({ url: '/v1/api-keys/0123456789abcdef', method: 'DELETE', headers: t.asOperator() });
    await t.app.metrics.observeCommand('CreateTenant', async () => 'ok');
    await expect(
      t.app.metrics.observeCommand('CreateVm', async () => {
        throw new NovaCronError('NC_QUOTA_EXCEEDED', 'no');
      }),
    ).rejects.toThrow('no');
    t.app.metrics.countAppend('vm-0193');
    t.app.metrics.countCompensation('vm-create', 'release-quota');

    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('novacron_http_requests_total{route="/healthz",method="GET",status="200"} 2');
    expect(text).toContain('novacron_http_requests_total{route="(unmatched)",method="GET",status="404"} 1');
    expect(text).toContain('novacron_http_requests_total{route="/v1/api-keys/:id",method="DELETE",status="404"} 1');
    expect(text).toContain('novacron_commands_total{type="CreateTenant",outcome="accepted"} 1');
    expect(text).toContain('novacron_commands_total{type="CreateVm",outcome="NC_QUOTA_EXCEEDED"} 1');
    expect(text).toMatch(/novacron_command_duration_seconds_count\{type="CreateTenant",outcome="accepted"\} 1/);
    expect(text).toContain('novacron_event_appends_total{category="vm"} 1');
    expect(text).toContain('novacron_saga_compensations_total{saga="vm-create",step="release-quota"} 1');
  });

  it('keeps a registry per app', async () => {
    t = testApp();
    const other = testApp();
    try {
      await t.app.inject({ url: '/healthz' });
      const mine = await t.app.inject({ url: '/metrics' });
      const theirs = await other.app.inject({ url: '/metrics' });
      expect(mine.body).toContain('route="/healthz"');
      expect(theirs.body).not.toContain('route="/healthz"');
    } finally {
      await other.close();
    }
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3 document with bearer and API-key security, and Swagger UI at /docs', async () => {
    t = testApp();
    const ui = await t.app.inject({ url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
    expect(doc.security).toEqual([{ bearerAuth: [] }, { apiKey: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/v1/tenants/{id}/api-keys', '/v1/api-keys/{id}']));
  });

  it('has every operation declare a success and its error responses', async () => {
    t = testApp();
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    for (const [path, operations] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses);
        expect(statuses.some((status) => status.startsWith('2')), `${method} ${path}`).toBe(true);
        expect(statuses, `${method} ${path}`).toContain('500');
        if (path.startsWith('/v1')) expect(statuses, `${method} ${path}`).toContain('401');
      }
    }
  });
});
