import { afterEach, describe, expect, it } from 'vitest';
import { formatStatus } from './cli-ops.ts';
import { fleetApp, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
afterEach(async () => f?.close());

describe('GET /v1/admin/processors', () => {
  it('lists every projection processor with checkpoint, lag and parked events, to operators only', async () => {
    f = await fleetApp();
    await f.setup('POST', '/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.021 });
    const head = await f.platform.store.headPosition();
    const names = f.platform.projections.names;
    expect(names).toEqual(expect.arrayContaining(['inventory', 'shard-map', 'routing-table', 'capacity-forecast']));
    for (const name of names) expect(await f.platform.projections.waitFor(name, head, 5000)).toBe(true);
    const response = await f.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.operator });
    expect(response.statusCode).toBe(200);
    const { processors } = response.json();
    expect(processors.map((p: { name: string }) => p.name).sort()).toEqual([...names].sort());
    for (const p of processors) expect(p).toMatchObject({ state: 'running', checkpoint: head, head, lag: 0, parked: 0, generation: 1 });

    const tenant = await f.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.tenant('acme') });
    expect(tenant.statusCode).toBe(403);
  });
});

describe('novacron status output', () => {
  it('is a table with one line per processor', () => {
    const text = formatStatus([
      { name: 'inventory', state: 'running', generation: 2, version: 1, checkpoint: 10, head: 12, lag: 2, parked: 1, processed: 10, error: null, failures: 0 },
    ]);
    expect(text.split('\n')).toEqual([
      'processor  generation  checkpoint  head  lag  parked  state',
      'inventory  g2 (v1)     10          12    2    1       running',
    ]);
  });
});
