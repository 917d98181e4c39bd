import { gaussian, mulberry32 } from './prng.ts';
import { HOURS_PER_DAY, HOURS_PER_WEEK } from './series.ts';

export interface SyntheticSeriesOptions {
  hours: number;
  seed: number;
  level?: number;
  trendPerHour?: number;
  /** Half the peak-to-trough swing of the daily cycle (peak at 14:00). */
  dailyAmplitude?: number;
  /** Weekdays sit 0.4·A above the weekly mean, weekends A below it (hour 0 is a Monday 00:00). */
  weeklyAmplitude?: number;
  noiseSd?: number;
}

/** A reproducible hourly allocation series: level + linear trend + daily and weekly cycles + Gaussian noise. */
export function syntheticSeries({
  hours,
  seed,
  level = 2000,
  trendPerHour = 0.3,
  dailyAmplitude = 300,
  weeklyAmplitude = 200,
  noiseSd = 40,
}: SyntheticSeriesOptions): number[] {
  const noise = gaussian(mulberry32(seed));
  const series = new Array<number>(hours);
  for (let t = 0; t < hours; t++) {
    const hourOfDay = t % HOURS_PER_DAY;
    const dayOfWeek = Math.floor((t % HOURS_PER_WEEK) / HOURS_PER_DAY);
    const daily = dailyAmplitude * Math.cos((2 * Math.PI * (hourOfDay - 14)) / HOURS_PER_DAY);
    const weekly = weeklyAmplitude * (dayOfWeek >= 5 ? -1 : 0.4);
    series[t] = level + trendPerHour * t + daily + weekly + noiseSd * noise();
  }
  return series;
}
