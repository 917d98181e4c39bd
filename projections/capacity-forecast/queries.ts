import type Database from 'better-sqlite3';
import type { CapacityMetric } from '../../schemas/generated/events.ts';
import { MAX_HORIZON_HOURS, selectModel, toPoints, type ForecastPoint, type ModelName, type ModelSelection } from './model/index.ts';
import { isoOfHour } from './hours.ts';

export type Metric = CapacityMetric;
export const METRICS: readonly Metric[] = ['vcpus', 'memory'];

/** Longest history a model is fitted on: a year of hours (a fit then takes about a second). */
export const MAX_HISTORY_HOURS = 365 * 24;

/** An hourly series: values[i] is the allocation at the end of hour `startHour + i` (hours since the epoch). */
export interface HourlySeries {
  startHour: number;
  values: number[];
}

/** A model's point, at an instant rather than hours after the series. */
export interface ForecastPointAt extends Omit<ForecastPoint, 't'> {
  /** Start of the hour (or, for a daily point, of its 24 hours), ISO-8601. */
  t: string;
}

export interface RegionForecast {
  regionId: string;
  metric: Metric;
  /** null: fewer than 2 hours of history, nothing to forecast from. */
  model: ModelName | null;
  /** The region's allocatable capacity now (vCPUs or MiB). */
  capacity: number;
  /** The last observed hour (the series' end); the forecast starts the hour after. */
  observedUntil: string;
  points: ForecastPointAt[];
  /** The first forecast hour whose 95% upper bound exceeds the capacity, within the horizon. */
  shortfall: { crossingAt: string; upper95: number } | null;
}

export interface CapacityForecastQueries {
  /** Regions with at least one node ever registered, sorted. */
  regions(): string[];
  /** Allocatable capacity of the region's in-service nodes; null for a region the projection does not know. */
  capacity(regionId: string): { vcpus: number; memory: number } | null;
  series(regionId: string, metric: Metric): HourlySeries | null;
  clusterSeries(clusterId: string, metric: Metric): HourlySeries | null;
  /** horizonHours 1..MAX_HORIZON_HOURS; null for an unknown region. */
  forecast(regionId: string, metric: Metric, horizonHours: number): RegionForecast | null;
}

const COLUMN: Record<Metric, 'vcpus' | 'memory_mib'> = { vcpus: 'vcpus', memory: 'memory_mib' };

const sameSeries = (a: HourlySeries, b: HourlySeries): boolean =>
  a.startHour === b.startHour && a.values.length === b.values.length && a.values.every((v, i) => v === b.values[i]);

export function capacityForecastQueries(db: Database.Database): CapacityForecastQueries {
  const regions = db.prepare<[], { region_id: string }>('SELECT DISTINCT region_id FROM nodes ORDER BY region_id');
  const capacity = db.prepare<[string], { nodes: number; vcpus: number | null; memory: number | null }>(
    'SELECT COUNT(*) AS nodes, SUM(vcpus * in_service) AS vcpus, SUM(memory_mib * in_service) AS memory FROM nodes WHERE region_id = ?',
  );
  const streamTime = db.prepare<[], { hour: number }>('SELECT hour FROM stream_time WHERE id = 1');
  const hourly = db.prepare<[string, string], { hour: number; vcpus: number; memory_mib: number }>(
    'SELECT hour, vcpus, memory_mib FROM allocated_hourly WHERE scope = ? AND scope_id = ? ORDER BY hour',
  );
  /** The fitted model per region and metric, with the series it was fitted on. */
  const fitted = new Map<string, { series: HourlySeries; selection: ModelSelection }>();

  /** Carries each hour's value forward over the hours without a row, up to stream time. */
  function seriesOf(scope: 'region' | 'cluster', id: string, metric: Metric): HourlySeries | null {
    const rows = hourly.all(scope, id);
    const first = rows[0];
    const end = streamTime.get()?.hour;
    if (first === undefined || end === undefined) return null;
    const values = new Array<number>(end - first.hour + 1);
    let row = 0;
    let value = 0;
    for (let i = 0; i < values.length; i++) {
      const current = rows[row];
      if (current !== undefined && current.hour === first.hour + i) {
        value = current[COLUMN[metric]];
        row++;
      }
      values[i] = value;
    }
    return { startHour: first.hour, values };
  }

  function selectionFor(regionId: string, metric: Metric, series: HourlySeries): ModelSelection {
    const key = `${regionId}\u0000${metric}`;
    const cached = fitted.get(key);
    if (cached && sameSeries(cached.series, series)) return cached.selection;
    const selection = selectModel(series.values.slice(-MAX_HISTORY_HOURS));
    fitted.set(key, { series, selection });
    return selection;
  }

  function capacityOf(regionId: string): { vcpus: number; memory: number } | null {
    const row = capacity.get(regionId);
    if (!row || row.nodes === 0) return null;
    return { vcpus: row.vcpus ?? 0, memory: row.memory ?? 0 };
  }

  return {
    regions: () => regions.all().map((r) => r.region_id),
    capacity: capacityOf,
    series: (regionId, metric) => seriesOf('region', regionId, metric),
    clusterSeries: (clusterId, metric) => seriesOf('cluster', clusterId, metric),
    forecast(regionId, metric, horizonHours) {
      if (!Number.isInteger(horizonHours) || horizonHours < 1 || horizonHours > MAX_HORIZON_HOURS) {
        throw new RangeError(`forecast: horizonHours must be an integer in 1..${MAX_HORIZON_HOURS}, got ${horizonHours}`);
      }
      const limit = capacityOf(regionId);
      const series = seriesOf('region', regionId, metric);
      if (limit === null || series === null) return null;
      const lastHour = series.startHour + series.values.length - 1;
      const base = { regionId, metric, capacity: limit[metric], observedUntil: isoOfHour(lastHour) };
      if (series.values.length < 2) return { ...base, model: null, points: [], shortfall: null };

      // forecastCapacity(series, { horizonHours }) is selectModel then toPoints: the fit is kept until the series changes.
      const selection = selectionFor(regionId, metric, series);
      const hourlyForecast = selection.forecaster.forecast(horizonHours);
      const points = toPoints(hourlyForecast).map(({ t, ...point }) => ({ t: isoOfHour(lastHour + t), ...point }));
      const crossing = hourlyForecast.upper95.findIndex((upper) => Math.max(0, upper) > base.capacity);
      const shortfall =
        crossing < 0 ? null : { crossingAt: isoOfHour(lastHour + crossing + 1), upper95: Math.max(0, hourlyForecast.upper95[crossing]!) };
      return { ...base, model: selection.model, points, shortfall };
    },
  };
}
