import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { openTempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import { createProjectionHost } from '../../streams/processing/host.ts';
import { CAPACITY_FORECAST, capacityForecastProjection } from './projection.ts';
import type { CapacityForecastQueries, Metric, RegionForecast } from './queries.ts';
import { createShortfallWatch, type ForecastSource } from './shortfall-watch.ts';
import { growingRegion } from './testing.ts';

let dir: string;
let store: EventStore;
let close: () => Promise<void>;
beforeEach(() => ({ dir, store, close } = openTempEventStore('shortfall')));
afterEach(() => close());

/** A projection stand-in whose forecasts the test sets: per region and metric, a crossing instant or none. */
function stubForecasts() {
  const crossings = new Map<string, string | null>();
  let caughtUp = true;
  const queries: Pick<CapacityForecastQueries, 'regions' | 'forecast'> = {
    regions: () => [...new Set([...crossings.keys()].map((key) => key.split('/')[0]!))].sort(),
    forecast: (regionId, metric): RegionForecast | null => {
      if (regionId === 'broken') throw new Error('no forecast today');
      if (!crossings.has(`${regionId}/${metric}`)) return null;
      const at = crossings.get(`${regionId}/${metric}`) ?? null;
      return {
        regionId,
        metric,
        model: 'damped-trend',
        capacity: 1800,
        observedUntil: '2025-02-01T00:00:00.000Z',
        points: [],
        shortfall: at === null ? null : { crossingAt: at, upper95: 1850.5 },
      };
    },
  };
  const source: ForecastSource = {
    queries: <Q>() => queries as unknown as Q,
    waitFor: async () => caughtUp,
  };
  return {
    source,
    set: (regionId: string, metric: Metric, crossingAt: string | null) => crossings.set(`${regionId}/${metric}`, crossingAt),
    lagging: (value: boolean) => (caughtUp = !value),
  };
}

const warnings = async (regionId = 'eu-west'): Promise<Array<Record<string, unknown>>> =>
  (await store.readStream(`forecast-${regionId}`)).map((e) => ({ type: e.type, ...e.data }));
const march1 = '2025-03-01T00:00:00.000Z';
const now = () => new Date('2025-02-01T10:00:00.000Z');

describe('shortfall watcher', () => {
  it('records a crossing once over repeated refreshes', async () => {
    const f = stubForecasts();
    f.set('eu-west', 'vcpus', march1);
    f.set('eu-west', 'memory', null);
    const watch = createShortfallWatch({ store, projections: f.source, now });
    const first = await watch.refresh();
    expect(first).toEqual({ ran: true, recorded: [{ regionId: 'eu-west', metric: 'vcpus', crossingAt: march1, revision: 0 }] });
    await watch.refresh();
    await watch.refresh();
    expect(await warnings()).toEqual([
      {
        type: 'CapacityShortfallForecast',
        regionId: 'eu-west',
        metric: 'vcpus',
        capacity: 1800,
        crossingAt: march1,
        upper95: 1850.5,
        model: 'damped-trend',
        forecastMadeAt: '2025-02-01T10:00:00.000Z',
      },
    ]);
    const [event] = await store.readStream('forecast-eu-west');
    expect(event?.metadata).toMatchObject({ actor: 'system:shortfall-watch', occurredAt: '2025-02-01T10:00:00.000Z', tenantId: null });
  });

  it('records nothing again after a restart, nor when several instances refresh at once', async () => {
    const f = stubForecasts();
    f.set('eu-west', 'vcpus', march1);
    await createShortfallWatch({ store, projections: f.source }).refresh();
    const restarted = createShortfallWatch({ store, projections: f.source });
    expect((await restarted.refresh()).recorded).toEqual([]);

    f.set('us-east', 'memory', march1);
    const instances = [1, 2, 3].map(() => createShortfallWatch({ store, projections: f.source }));
    await Promise.all(instances.map((w) => w.refresh()));
    expect(await warnings()).toHaveLength(1);
    expect(await warnings('us-east')).toHaveLength(1);
  });

  it('records a crossing that moved by more than the threshold, not one that moved less', async () => {
    const f = stubForecasts();
    const watch = createShortfallWatch({ store, projections: f.source, moveThresholdHours: 48 });
    f.set('eu-west', 'vcpus', march1);
    await watch.refresh();
    f.set('eu-west', 'vcpus', '2025-03-02T23:00:00.000Z');
    await watch.refresh();
    f.set('eu-west', 'vcpus', '2025-02-20T00:00:00.000Z');
    await watch.refresh();
    expect((await warnings()).map((w) => w.crossingAt)).toEqual([march1, '2025-02-20T00:00:00.000Z']);
  });

  it('records a fresh crossing after a forecast without one, once across instances', async () => {
    const f = stubForecasts();
    const a = createShortfallWatch({ store, projections: f.source });
    const b = createShortfallWatch({ store, projections: f.source });
    f.set('eu-west', 'vcpus', march1);
    await a.refresh();
    await b.refresh();
    f.set('eu-west', 'vcpus', null); // capacity added: no crossing any more
    await Promise.all([a.refresh(), b.refresh()]);
    expect(await warnings()).toHaveLength(1);
    f.set('eu-west', 'vcpus', march1); // growth catches up again
    await Promise.all([a.refresh(), b.refresh()]);
    await Promise.all([a.refresh(), b.refresh()]);
    expect((await warnings()).map((w) => w.crossingAt)).toEqual([march1, march1]);
  });

  it('forecasts nothing while the projection lags behind the log', async () => {
    const f = stubForecasts();
    f.set('eu-west', 'vcpus', march1);
    f.lagging(true);
    const watch = createShortfallWatch({ store, projections: f.source, catchUpWaitMs: 10 });
    expect(await watch.refresh()).toEqual({ ran: false, recorded: [] });
    expect(await warnings()).toEqual([]);
  });

  it('reports a region that fails and goes on with the others', async () => {
    const f = stubForecasts();
    f.set('broken', 'vcpus', march1);
    f.set('eu-west', 'vcpus', march1);
    const errors: unknown[] = [];
    const watch = createShortfallWatch({ store, projections: f.source, onError: (error, where) => errors.push({ message: (error as Error).message, ...where }) });
    await watch.refresh();
    expect(errors).toContainEqual({ message: 'no forecast today', regionId: 'broken', metric: 'vcpus' });
    expect(await warnings()).toHaveLength(1);
  });

  it('runs on its wall-clock punctuation once started, and not after stop', async () => {
    const f = stubForecasts();
    f.set('eu-west', 'vcpus', march1);
    const watch = createShortfallWatch({ store, projections: f.source, intervalMs: 10 });
    watch.start();
    await expect.poll(warnings, { timeout: 5000 }).toHaveLength(1);
    await watch.stop();
    f.set('eu-west', 'vcpus', '2025-06-01T00:00:00.000Z');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await warnings()).toHaveLength(1);
  });

  it('rejects a bad option at construction', () => {
    const { source } = stubForecasts();
    expect(() => createShortfallWatch({ store, projections: source, intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => createShortfallWatch({ store, projections: source, horizonHours: 5000 })).toThrow(/horizonHours/);
  });

  it('warns from the real projection once its forecast crosses the capacity', async () => {
    for (const event of growingRegion({ start: '2025-01-06T00:00:00.000Z', hours: 21 * 24, vcpus: (h) => 2 + (h % 24 >= 8 && h % 24 < 20 ? 2 : 0), nodeVcpus: 1800 })) {
      await store.append(`node-${event.data.nodeId}`, [{ type: event.type, data: event.data as unknown as Record<string, unknown>, metadata: { occurredAt: event.occurredAt } }]);
    }
    const host = createProjectionHost({ dir: join(dir, 'projections'), source: store, projections: [capacityForecastProjection], sync: 'normal' });
    await host.start();
    try {
      const watch = createShortfallWatch({ store, projections: host, catchUpWaitMs: 10_000 });
      const { recorded } = await watch.refresh();
      const queries = host.queries<CapacityForecastQueries>(CAPACITY_FORECAST);
      const [vcpus, memory] = [queries.forecast('eu-west', 'vcpus', 4416), queries.forecast('eu-west', 'memory', 4416)];
      expect(vcpus?.shortfall).not.toBeNull();
      // Memory grows with the vCPUs (1 GiB each) against 1 GiB per node vCPU: it crosses too.
      expect(recorded).toEqual([
        { regionId: 'eu-west', metric: 'vcpus', crossingAt: vcpus?.shortfall?.crossingAt, revision: 0 },
        { regionId: 'eu-west', metric: 'memory', crossingAt: memory?.shortfall?.crossingAt, revision: 1 },
      ]);
      expect((await watch.refresh()).recorded).toEqual([]);
      expect(await warnings()).toMatchObject([
        { metric: 'vcpus', capacity: 1800, model: vcpus?.model, upper95: vcpus?.shortfall?.upper95 },
        { metric: 'memory', capacity: 1800 * 1024, model: memory?.model },
      ]);
    } finally {
      await host.stop();
    }
  });
});
