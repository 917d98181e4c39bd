import { dampedTrend } from './damped-trend.ts';
import { holtWinters } from './holt-winters.ts';
import { seasonalNaive } from './seasonal-naive.ts';
import { HOURS_PER_DAY, HOURS_PER_WEEK, assertSeries } from './series.ts';
import { smape } from './smape.ts';
import type { ForecastModel, Forecaster, ModelName } from './types.ts';

export const MODELS: Readonly<Record<ModelName, ForecastModel<object>>> = {
  'seasonal-naive': seasonalNaive,
  'damped-trend': dampedTrend,
  'holt-winters': holtWinters,
};

/** Ties go to the earlier, simpler model. */
const ALL_MODELS: readonly ModelName[] = ['seasonal-naive', 'damped-trend', 'holt-winters'];
/** No backtest origin leaves less than 2 days of training data. */
const MIN_TRAINING = 2 * HOURS_PER_DAY;

export interface SelectModelOptions {
  /** Hours forecast from each origin, 24..168. Default: the largest multiple of 24 up to 168 that leaves 2 weeks before the first origin, at least 24. */
  horizon?: number;
  /** Number of rolling origins, spaced `horizon` apart at the end of the series. Default 4. */
  origins?: number;
  candidates?: readonly ModelName[];
}

export interface ModelSelection {
  model: ModelName;
  /** Mean backtest sMAPE (percent) of each candidate; empty when the series is too short for a backtest. */
  scores: Partial<Record<ModelName, number>>;
  /** The chosen model fitted on the whole series. */
  forecaster: Forecaster;
}

/**
 * Rolling-origin backtest: each candidate is refitted on series[0, o) for each
 * origin o = n − k·horizon (k = 1..origins, keeping origins with at least
 * 2 days before them) and forecasts series[o, o + horizon); the model with the
 * lowest mean sMAPE wins. Without any origin, seasonal naive is chosen.
 */
export function selectModel(series: readonly number[], options: SelectModelOptions = {}): ModelSelection {
  const { origins: count = 4, candidates = ALL_MODELS } = options;
  assertSeries(series, 2, 'selectModel');
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`selectModel: origins must be a positive integer, got ${count}`);
  const horizon = options.horizon ?? defaultHorizon(series.length, count);
  if (!Number.isInteger(horizon) || horizon < HOURS_PER_DAY || horizon > HOURS_PER_WEEK) {
    throw new RangeError(`selectModel: horizon must be an integer in 24..168, got ${horizon}`);
  }
  const origins = backtestOrigins(series.length, horizon, count);
  const ordered = ALL_MODELS.filter((name) => candidates.includes(name));
  if (ordered.length === 0) throw new RangeError(`selectModel: no known model among candidates ${candidates.join(', ')}`);

  const scores: Partial<Record<ModelName, number>> = {};
  let model: ModelName = ordered.includes('seasonal-naive') ? 'seasonal-naive' : ordered[0]!;
  if (origins.length > 0) {
    let best = Number.POSITIVE_INFINITY;
    for (const name of ordered) {
      const score = backtest(series, MODELS[name], origins, horizon);
      scores[name] = score;
      if (score < best) {
        best = score;
        model = name;
      }
    }
  }
  return { model, scores, forecaster: MODELS[model].fit(series) };
}

/** Mean sMAPE of the model refitted at each origin and forecasting `horizon` hours. */
export function backtest(series: readonly number[], model: ForecastModel<object>, origins: readonly number[], horizon: number): number {
  let total = 0;
  for (const origin of origins) {
    const { mean } = model.fit(series.slice(0, origin)).forecast(horizon);
    total += smape(series.slice(origin, origin + horizon), mean);
  }
  return total / origins.length;
}

/** Origins n − k·horizon, k = 1..count, oldest first, that leave at least 2 days of training. */
export function backtestOrigins(n: number, horizon: number, count: number): number[] {
  const origins: number[] = [];
  for (let k = count; k >= 1; k--) {
    const origin = n - k * horizon;
    if (origin >= MIN_TRAINING) origins.push(origin);
  }
  return origins;
}

function defaultHorizon(n: number, count: number): number {
  const spare = Math.floor((n - 2 * HOURS_PER_WEEK) / count / HOURS_PER_DAY) * HOURS_PER_DAY;
  return Math.min(HOURS_PER_WEEK, Math.max(HOURS_PER_DAY, spare));
}
