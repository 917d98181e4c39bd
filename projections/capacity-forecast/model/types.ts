/** The three forecasting models the capacity-forecast projection chooses between. */
export type ModelName = 'holt-winters' | 'damped-trend' | 'seasonal-naive';

/** An h-step forecast: index i is the hour i + 1 after the last observed hour. */
export interface Forecast {
  readonly mean: number[];
  readonly lower80: number[];
  readonly upper80: number[];
  readonly lower95: number[];
  readonly upper95: number[];
}

/** A model fitted to one series. */
export interface Forecaster {
  readonly model: ModelName;
  /** Estimated variance of the in-sample one-step-ahead errors. */
  readonly sigma2: number;
  /** The fitted parameters, for diagnostics (alpha, beta, phi, gamma…, period). */
  readonly params: Readonly<Record<string, number>>;
  forecast(h: number): Forecast;
}

/** A model: its name, the shortest series it can fit, and its fit function. */
export interface ForecastModel<Options = Record<string, never>> {
  readonly name: ModelName;
  readonly minLength: number;
  fit(series: readonly number[], options?: Options): Forecaster;
}
