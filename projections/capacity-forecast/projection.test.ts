import { describe, expect, it, vi } from 'vitest';
import * as model from './model/index.ts';
import { capacityForecastProjection } from './projection.ts';
import type { CapacityForecastQueries } from './queries.ts';
import { fold, growingRegion, node, placed, recorded, type TimedEvent } from './testing.ts';

vi.mock('./model/index.ts', async (original) => {
  const actual = await original<typeof import('./model/index.ts')>();
  return { ...actual, selectModel: vi.fn(actual.selectModel) };
});

/** Given a history, when more events are applied, then the queries read … (each case folds a fresh in-memory store). */
const given = (history: TimedEvent[]) => ({
  when: (events: TimedEvent[]) => ({
    async then(check: (queries: CapacityForecastQueries) => void): Promise<void> {
      const folded = await fold([...history, ...events]);
      try {
        check(folded.queries);
      } finally {
        folded.close();
      }
    },
  }),
});

const H = (hour: number, minute = 0) => new Date(Date.UTC(2025, 0, 6, hour, minute)).toISOString();
const hourOf = (iso: string) => Math.floor(Date.parse(iso) / 3_600_000);
const series = (startIso: string, values: number[]) => ({ startHour: hourOf(startIso), values });

const registered = [node.registered('n1', H(0, 10), { vcpus: 64, memoryMiB: 100_000, overcommit: 1.5 })];

describe('capacity-forecast projection: hourly series', () => {
  it('a registered node starts its region and cluster series at zero, in the hour it registered', () =>
    given([]).when(registered).then((q) => {
      expect(q.regions()).toEqual(['eu-west']);
      expect(q.series('eu-west', 'vcpus')).toEqual(series(H(0), [0]));
      expect(q.clusterSeries('c1', 'memory')).toEqual(series(H(0), [0]));
    }));

  it('counts capacity as the nodes do: capacity × overcommit, rounded down; failed and decommissioned nodes out', async () => {
    await given(registered).when([]).then((q) => expect(q.capacity('eu-west')).toEqual({ vcpus: 96, memory: 150_000 }));
    const more = [node.registered('n2', H(1), { vcpus: 10, memoryMiB: 1001, overcommit: 1.5 }), node.registered('n3', H(1), { vcpus: 8 })];
    await given(registered).when(more).then((q) => expect(q.capacity('eu-west')).toEqual({ vcpus: 96 + 15 + 8, memory: 150_000 + 1501 + 262_144 }));
    await given([...registered, ...more])
      .when([node.capacityChanged('n1', H(2), 32, 50_000, 2), node.failed('n2', H(2)), node.decommissioned('n3', H(2))])
      .then((q) => expect(q.capacity('eu-west')).toEqual({ vcpus: 64, memory: 100_000 }));
  });

  it('a reservation allocates nothing until it is committed, in the hour of the commit', () =>
    given(registered)
      .when([node.reserved('n1', 'r1', 'vm1', H(1, 5), 4, 4096), node.committed('n1', 'r1', 'vm1', H(3, 59))])
      .then((q) => {
        expect(q.series('eu-west', 'vcpus')).toEqual(series(H(0), [0, 0, 0, 4]));
        expect(q.series('eu-west', 'memory')).toEqual(series(H(0), [0, 0, 0, 4096]));
        expect(q.clusterSeries('c1', 'vcpus')).toEqual(series(H(0), [0, 0, 0, 4]));
      }));

  it('carries the last value forward over empty hours, up to the latest event hour', () =>
    given([...registered, ...placed('n1', 'vm1', H(1), 2)])
      .when([node.registered('n9', H(5, 30), { regionId: 'us-east', clusterId: null })])
      .then((q) => {
        expect(q.series('eu-west', 'vcpus')).toEqual(series(H(0), [0, 2, 2, 2, 2, 2]));
        expect(q.series('us-east', 'vcpus')).toEqual(series(H(5), [0]));
        expect(q.clusterSeries('c1', 'vcpus')?.values).toHaveLength(6);
      }));

  it('an hour holds the value at its end', () =>
    given(registered)
      .when([...placed('n1', 'vm1', H(1, 1), 2), ...placed('n1', 'vm2', H(1, 2), 3), node.released('n1', 'r-vm1', 'vm1', H(1, 59), 2, 2048)])
      .then((q) => expect(q.series('eu-west', 'vcpus')).toEqual(series(H(0), [0, 3]))));

  it('follows the ledger: a resize adds to the holding, a release takes it off, a pending release allocates nothing', () =>
    given([...registered, ...placed('n1', 'vm1', H(1), 2, 2048)])
      .when([
        ...placed('n1', 'vm1-grow', H(2), 2, 2048).map((e) => ({ ...e, data: { ...e.data, vmId: 'vm1' } }) as TimedEvent),
        node.reserved('n1', 'r9', 'vm9', H(3), 8, 8192),
        node.released('n1', 'r9', 'vm9', H(3), 8, 8192),
        node.released('n1', 'r-vm1', 'vm1', H(4), 1, 1024),
        node.released('n1', 'r-vm1', 'vm1', H(5), 3, 3072),
        node.committed('n1', 'r-unknown', 'vm1', H(5)),
      ])
      .then((q) => {
        expect(q.series('eu-west', 'vcpus')).toEqual(series(H(0), [0, 2, 4, 4, 3, 0]));
        expect(q.series('eu-west', 'memory')).toEqual(series(H(0), [0, 2048, 4096, 4096, 3072, 0]));
      }));

  it('a node without a cluster counts for its region only; allocations on a failed node stay until released', () =>
    given([node.registered('n1', H(0), { clusterId: null }), ...placed('n1', 'vm1', H(0), 4)])
      .when([node.failed('n1', H(1))])
      .then((q) => {
        expect(q.clusterSeries('c1', 'vcpus')).toBeNull();
        expect(q.series('eu-west', 'vcpus')).toEqual(series(H(0), [4, 4]));
        expect(q.capacity('eu-west')).toEqual({ vcpus: 0, memory: 0 });
      }));

  it('an event older than the latest hour applied lands in that hour: earlier hours are never rewritten', () =>
    given([...registered, ...placed('n1', 'vm1', H(3), 2)])
      .when(placed('n1', 'vm2', H(1), 5))
      .then((q) => expect(q.series('eu-west', 'vcpus')).toEqual(series(H(0), [0, 0, 0, 7]))));

  it('knows nothing of a region without nodes', () =>
    given(registered).when([]).then((q) => {
      expect(q.series('mars', 'vcpus')).toBeNull();
      expect(q.capacity('mars')).toBeNull();
      expect(q.forecast('mars', 'vcpus', 24)).toBeNull();
    }));

  it('replays to the same tables whatever the batching and the wall clock', async () => {
    const log = growingRegion({ start: H(0), hours: 60, vcpus: (h) => 1 + (h % 5) });
    log.push(node.failed('eu-west-n1', H(59, 30)), node.released('eu-west-n1', 'r-eu-west-vm3', 'eu-west-vm3', H(40), 4, 4096));
    const dump = (f: Awaited<ReturnType<typeof fold>>) =>
      ['nodes', 'reservations', 'holdings', 'allocated', 'allocated_hourly', 'stream_time'].map((table) =>
        f.state.db.prepare(`SELECT * FROM ${table}`).all().map((row) => JSON.stringify(row)).sort(),
      );
    const once = await fold(log, { batchSize: 500 });
    vi.useFakeTimers({ now: new Date('2031-07-01T12:34:56Z'), toFake: ['Date'] });
    const again = await fold(log, { batchSize: 1 });
    vi.useRealTimers();
    expect(dump(again)).toEqual(dump(once));
    expect(again.queries.series('eu-west', 'vcpus')).toEqual(once.queries.series('eu-west', 'vcpus'));
    expect(once.queries.series('eu-west', 'vcpus')?.values).toHaveLength(60);
    once.close();
    again.close();
  });
});

describe('capacity-forecast projection: forecasts', () => {
  const start = '2025-01-06T00:00:00.000Z';
  const daily = (h: number) => 2 + (h % 24 >= 8 && h % 24 < 20 ? 2 : 0);

  it('forecasts from the series: hourly then daily points from the hour after the last one, intervals ordered', async () => {
    const f = await fold(growingRegion({ start, hours: 21 * 24, vcpus: daily, nodeVcpus: 100_000 }));
    const forecast = f.queries.forecast('eu-west', 'vcpus', 720);
    f.close();
    expect(forecast).not.toBeNull();
    const { points, ...rest } = forecast!;
    expect(rest).toMatchObject({ regionId: 'eu-west', metric: 'vcpus', capacity: 100_000, shortfall: null, observedUntil: '2025-01-26T23:00:00.000Z' });
    expect(['holt-winters', 'damped-trend', 'seasonal-naive']).toContain(rest.model);
    expect(points).toHaveLength(14 * 24 + 16);
    expect(points[0]).toMatchObject({ t: '2025-01-27T00:00:00.000Z', resolution: 'hour' });
    expect(points[14 * 24]).toMatchObject({ t: '2025-02-10T00:00:00.000Z', resolution: 'day' });
    for (const p of points) {
      expect(p.lower95).toBeLessThanOrEqual(p.lower80);
      expect(p.lower80).toBeLessThanOrEqual(p.mean + 1e-9);
      expect(p.mean).toBeLessThanOrEqual(p.upper80 + 1e-9);
      expect(p.upper80).toBeLessThanOrEqual(p.upper95);
    }
  });

  it('finds the first hour whose upper 95% bound exceeds the capacity', async () => {
    const f = await fold(growingRegion({ start, hours: 21 * 24, vcpus: daily, nodeVcpus: 1800 }));
    const forecast = f.queries.forecast('eu-west', 'vcpus', model.MAX_HORIZON_HOURS)!;
    f.close();
    expect(forecast.capacity).toBe(1800);
    expect(forecast.shortfall).not.toBeNull();
    const { crossingAt, upper95 } = forecast.shortfall!;
    expect(upper95).toBeGreaterThan(1800);
    expect(Date.parse(crossingAt)).toBeGreaterThan(Date.parse(forecast.observedUntil));
    // The point holding the crossing hour is the first point above the capacity.
    const first = forecast.points.find((p) => p.upper95 > 1800)!;
    const span = first.resolution === 'hour' ? 3_600_000 : 24 * 3_600_000;
    expect(Date.parse(crossingAt)).toBeGreaterThanOrEqual(Date.parse(first.t));
    expect(Date.parse(crossingAt)).toBeLessThan(Date.parse(first.t) + span);
  });

  it('fits once per region and metric until the series changes', async () => {
    const selectModel = vi.mocked(model.selectModel);
    const log = growingRegion({ start, hours: 3 * 24, vcpus: daily });
    const f = await fold(log);
    selectModel.mockClear();
    f.queries.forecast('eu-west', 'vcpus', 24);
    f.queries.forecast('eu-west', 'vcpus', 720);
    expect(selectModel).toHaveBeenCalledTimes(1);
    f.queries.forecast('eu-west', 'memory', 24);
    expect(selectModel).toHaveBeenCalledTimes(2);
    // A new event changes the series (one more hour): fitted again.
    const next = recorded(placed('eu-west-n1', 'late', '2025-01-09T00:30:00.000Z', 1), 10_000);
    await f.state.commit(10_001, (db) => capacityForecastProjection.apply(next, db));
    f.queries.forecast('eu-west', 'vcpus', 24);
    expect(selectModel).toHaveBeenCalledTimes(3);
    f.close();
  });

  it('answers without a model while there are fewer than 2 hours of history', () =>
    given(registered).when([]).then((q) =>
      expect(q.forecast('eu-west', 'vcpus', 24)).toEqual({
        regionId: 'eu-west',
        metric: 'vcpus',
        capacity: 96,
        observedUntil: H(0),
        model: null,
        points: [],
        shortfall: null,
      }),
    ));
});
