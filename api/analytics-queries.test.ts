// The analytics routes on an instance without ClickHouse (NOVACRON_CLICKHOUSE_URL unset).
import { afterEach, describe, expect, it } from 'vitest';
import { fleetApp, type FleetApp } from './testing/fleet-app.ts';

describe('analytics routes without ClickHouse', () => {
  let f: FleetApp | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('answer 404 NC_ANALYTICS_DISABLED naming the setting, after checking the caller and the input', async () => {
    f = await fleetApp();
    const range = 'from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z';
    for (const [url, headers] of [
      [`/v1/analytics/vm-hours?${range}`, f.operator],
      [`/v1/analytics/vm-hours?${range}`, f.tenant('acme', 'tenant-user')],
      [`/v1/analytics/capacity?regionId=eu-west&${range}`, f.operator],
    ] as const) {
      const answer = await f.app.inject({ method: 'GET', url, headers });
      expect(answer.statusCode).toBe(404);
      expect(answer.json()).toEqual({ error: { code: 'NC_ANALYTICS_DISABLED', message: expect.stringContaining('NOVACRON_CLICKHOUSE_URL'), details: { setting: 'NOVACRON_CLICKHOUSE_URL' } } });
    }
    expect((await f.app.inject({ method: 'GET', url: `/v1/analytics/vm-hours?from=x&to=y`, headers: f.operator })).json()).toMatchObject({ error: { code: 'NC_VALIDATION', details: { field: 'from' } } });
    expect((await f.app.inject({ method: 'GET', url: `/v1/analytics/capacity?regionId=eu-west&${range}`, headers: f.tenant('acme') })).statusCode).toBe(403);
    expect((await f.app.inject({ method: 'GET', url: `/v1/analytics/vm-hours?${range}` })).statusCode).toBe(401);
  });

  it('are in the OpenAPI document', async () => {
    f = await fleetApp();
    const paths = (f.app.swagger() as { paths: Record<string, unknown> }).paths;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/v1/analytics/vm-hours', '/v1/analytics/capacity']));
  });
});
