export { capacityForecastProjection, CAPACITY_FORECAST } from './projection.ts';
export { METRICS, MAX_HISTORY_HOURS, type CapacityForecastQueries, type HourlySeries, type Metric, type RegionForecast } from './queries.ts';
export { createShortfallWatch, type ShortfallWatch, type ShortfallWatchOptions, type RefreshReport } from './shortfall-watch.ts';
export { forecastStreamOf, shortfallDecider } from './shortfall-decider.ts';
