import type { SqliteProjection } from '../../streams/processing/projection.ts';
import { applyBatch, HANDLES } from './apply.ts';
import { capacityForecastQueries, type CapacityForecastQueries } from './queries.ts';
import { migrate } from './tables.ts';

export const CAPACITY_FORECAST = 'capacity-forecast';

/**
 * Hourly allocated vCPUs and memory per region and cluster, and each region's
 * capacity, from node events; forecasts with prediction intervals on query.
 */
export const capacityForecastProjection: SqliteProjection<CapacityForecastQueries> = {
  name: CAPACITY_FORECAST,
  version: 1,
  handles: HANDLES,
  migrate,
  apply: applyBatch,
  queries: capacityForecastQueries,
};
