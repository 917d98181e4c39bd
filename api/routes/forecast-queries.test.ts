import { afterEach, describe, expect, it } from 'vitest';
import { growingRegion } from '../../projections/capacity-forecast/testing.ts';
import { fleetApp, seedApi, type FleetApp } from '../testing/fleet-app.ts';

let f: FleetApp | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/**
 * Three weeks of hourly placements in eu-west (one node of 1800 vCPUs), as its
 * node stream records them, in one append: no forecast sees half of it.
 */
async function threeWeeks(app: FleetApp): Promise<number> {
  const daily = (h: number) => 2 + (h % 24 >= 8 && h % 24 < 20 ? 2 : 0);
  const events = growingRegion({ start: '2025-01-06T00:00:00.000Z', hours: 21 * 24, vcpus: daily, nodeVcpus: 1800 });
  const { position } = await app.platform.store.append(
    'node-eu-west-n1',
    events.map((event) => ({ type: event.type, data: event.data as unknown as Record<string, unknown>, metadata: { occurredAt: event.occurredAt } })),
  );
  return position;
}

const get = (app: FleetApp, url: string, headers: Record<string, string> = app.operator) => app.app.inject({ method: 'GET', url, headers });

describe('GET /v1/forecasts/:regionId', () => {
  it('answers the forecast with its intervals and the first possible shortfall', async () => {
    f = await fleetApp();
    const position = await threeWeeks(f);
    const res = await get(f, '/v1/forecasts/eu-west?metric=vcpus&horizon=720&consistency=session', { ...f.operator, 'x-novacron-after': String(position) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['capacity', 'metric', 'model', 'points', 'regionId', 'shortfall']);
    expect(body).toMatchObject({ regionId: 'eu-west', metric: 'vcpus', capacity: 1800 });
    expect(['holt-winters', 'damped-trend', 'seasonal-naive']).toContain(body.model);
    expect(body.points).toHaveLength(14 * 24 + 16);
    expect(body.points[0]).toEqual({
      t: '2025-01-27T00:00:00.000Z',
      mean: expect.any(Number),
      lower80: expect.any(Number),
      upper80: expect.any(Number),
      lower95: expect.any(Number),
      upper95: expect.any(Number),
      resolution: 'hour',
    });
    expect(body.points.at(-1)).toMatchObject({ t: '2025-02-25T00:00:00.000Z', resolution: 'day' });
    expect(body.shortfall).toEqual({ crossingAt: expect.stringMatching(/^2025-02-\d\dT\d\d:00:00\.000Z$/), upper95: expect.any(Number) });
    expect(body.shortfall.upper95).toBeGreaterThan(1800);

    // Defaults: vCPUs, six months. Memory in MiB.
    const sixMonths = (await get(f, '/v1/forecasts/eu-west')).json();
    expect(sixMonths.points).toHaveLength(14 * 24 + 170);
    expect(sixMonths.metric).toBe('vcpus');
    const memory = (await get(f, '/v1/forecasts/eu-west?metric=memory&horizon=24')).json();
    expect(memory).toMatchObject({ metric: 'memory', capacity: 1800 * 1024, shortfall: null });
    expect(memory.points).toHaveLength(24);
  });

  it('answers a region registered through the API without a model until it has 2 hours of history', async () => {
    f = await fleetApp();
    await seedApi(f, { nodes: 1, vcpus: 32 });
    const res = await get(f, '/v1/forecasts/eu-west?consistency=session', { ...f.operator, 'x-novacron-after': 'node-euw-n0@0' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ regionId: 'eu-west', metric: 'vcpus', model: null, capacity: 32, points: [], shortfall: null });
  });

  it('answers 404 for a region it has no capacity data for, 400 for bad parameters, 403 for tenants', async () => {
    f = await fleetApp();
    const missing = await get(f, '/v1/forecasts/mars');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'NC_NOT_FOUND', details: { entity: 'region', id: 'mars' } });
    for (const query of ['horizon=4417', 'horizon=0', 'metric=disk', 'consistency=strong', 'unknown=1']) {
      const res = await get(f, `/v1/forecasts/eu-west?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('NC_VALIDATION');
    }
    const session = await get(f, '/v1/forecasts/eu-west?consistency=session');
    expect(session.statusCode).toBe(400);
    expect((await get(f, '/v1/forecasts/eu-west', f.tenant('acme'))).statusCode).toBe(403);
    expect((await f.app.inject({ method: 'GET', url: '/v1/forecasts/eu-west' })).statusCode).toBe(401);
  });
});

describe('the shortfall watcher of the server', () => {
  it('starts with the app, records each crossing once, and stops with it', async () => {
    f = await fleetApp({ NOVACRON_FORECAST_INTERVAL_MS: '1000' });
    await threeWeeks(f);
    const store = f.platform.store;
    const recorded = async () => (await store.readStream('forecast-eu-west')).map((e) => `${e.type}:${String(e.data.metric)}`);
    await expect.poll(recorded, { timeout: 15_000, interval: 200 }).toEqual(['CapacityShortfallForecast:vcpus', 'CapacityShortfallForecast:memory']);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // another punctuation: nothing new
    expect(await recorded()).toHaveLength(2);
  }, 30_000);
});
