export type { Forecast, ForecastModel, Forecaster, ModelName } from './types.ts';
export { holtWinters, type HoltWintersOptions } from './holt-winters.ts';
export { dampedTrend, type DampedTrendOptions } from './damped-trend.ts';
export { seasonalNaive, type SeasonalNaiveOptions } from './seasonal-naive.ts';
export { selectModel, backtest, backtestOrigins, MODELS, type ModelSelection, type SelectModelOptions } from './select-model.ts';
export {
  forecastCapacity,
  toPoints,
  HOURLY_POINTS,
  MAX_HORIZON_HOURS,
  type CapacityForecast,
  type ForecastCapacityOptions,
  type ForecastPoint,
} from './forecast-capacity.ts';
export { firstCrossing } from './first-crossing.ts';
export { smape } from './smape.ts';
export { nelderMead, type NelderMeadOptions, type NelderMeadResult } from './nelder-mead.ts';
export { Z80, Z95 } from './intervals.ts';
export { mulberry32, gaussian, type Rng } from './prng.ts';
export { syntheticSeries, type SyntheticSeriesOptions } from './synthetic-series.ts';
