import { systemContext } from '../../commands/handling/context.ts';
import { handleCommand, type Aggregate } from '../../commands/handling/handle-command.ts';
import { newEventId, type EventStore } from '../../streams/eventstore/index.ts';
import { MAX_HORIZON_HOURS } from './model/index.ts';
import { CAPACITY_FORECAST } from './projection.ts';
import { METRICS, type CapacityForecastQueries } from './queries.ts';
import { forecastStreamOf, shortfallDecider, type RecordShortfallForecast, type ShortfallState } from './shortfall-decider.ts';

const aggregate: Aggregate<RecordShortfallForecast, ShortfallState> = { decider: shortfallDecider };

/** What the watcher needs of the projection host. */
export interface ForecastSource {
  queries<Queries>(name: string): Queries;
  waitFor(name: string, position: number, timeoutMs: number): Promise<boolean>;
}

export interface ShortfallWatchOptions {
  store: EventStore;
  projections: ForecastSource;
  /** Wall-clock punctuation: how often every region and metric is forecast (NOVACRON_FORECAST_INTERVAL_MS). */
  intervalMs?: number;
  horizonHours?: number;
  /** A recorded crossing that moves by more than this many hours is recorded again. */
  moveThresholdHours?: number;
  /** How long a refresh waits for the projection to catch up with the log before it skips its turn. */
  catchUpWaitMs?: number;
  now?: () => Date;
  onError?: (error: unknown, where: { regionId?: string; metric?: string }) => void;
}

export interface RefreshReport {
  /** false: the projection had not caught up with the log, nothing was forecast. */
  ran: boolean;
  recorded: Array<{ regionId: string; metric: string; crossingAt: string; revision: number }>;
}

/**
 * The shortfall watcher: a processor on wall-clock punctuation, outside the
 * projection's pure apply. Every `intervalMs` (once the projection has caught
 * up with the log) it forecasts each region and metric over the horizon and,
 * when the 95% upper bound crosses the region's capacity, records
 * CapacityShortfallForecast in `forecast-<regionId>`, once per crossing (see
 * shortfall-decider.ts). The decision reads the stream back and appends at the
 * revision it read, so restarts and several instances record a crossing once.
 */
export function createShortfallWatch({
  store,
  projections,
  intervalMs = 60_000,
  horizonHours = MAX_HORIZON_HOURS,
  moveThresholdHours = 48,
  catchUpWaitMs = 1_000,
  now = () => new Date(),
  onError,
}: ShortfallWatchOptions) {
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new TypeError(`createShortfallWatch: intervalMs must be a positive integer, got ${intervalMs}`);
  if (!Number.isInteger(horizonHours) || horizonHours < 1 || horizonHours > MAX_HORIZON_HOURS) {
    throw new TypeError(`createShortfallWatch: horizonHours must be an integer in 1..${MAX_HORIZON_HOURS}, got ${horizonHours}`);
  }
  if (!(moveThresholdHours >= 0)) throw new TypeError(`createShortfallWatch: moveThresholdHours must be ≥ 0, got ${moveThresholdHours}`);
  /** Per region and metric: the stream revision at which the forecast was last seen without a crossing. */
  const clearSeen = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<RefreshReport> | null = null;
  let stopped = true;

  async function forecastAll(): Promise<RefreshReport> {
    const report: RefreshReport = { ran: false, recorded: [] };
    if (!(await projections.waitFor(CAPACITY_FORECAST, await store.headPosition(), catchUpWaitMs))) return report;
    report.ran = true;
    const queries = projections.queries<CapacityForecastQueries>(CAPACITY_FORECAST);
    const context = systemContext('shortfall-watch', now(), newEventId());
    for (const regionId of queries.regions()) {
      for (const metric of METRICS) {
        const key = `${regionId}\u0000${metric}`;
        try {
          const forecast = queries.forecast(regionId, metric, horizonHours);
          if (forecast === null) continue;
          const outcome = await handleCommand(store, forecastStreamOf(regionId), aggregate, {
            type: 'RecordShortfallForecast',
            data: {
              regionId,
              metric,
              capacity: forecast.capacity,
              model: forecast.model ?? 'none',
              crossing: forecast.shortfall && { at: forecast.shortfall.crossingAt, upper95: forecast.shortfall.upper95 },
              clearSeenAt: clearSeen.get(key) ?? null,
              moveThresholdHours,
            },
            metadata: { now: context.now.toISOString() },
          }, context);
          if (forecast.shortfall === null) clearSeen.set(key, outcome.revision);
          else if (outcome.events.length > 0) {
            clearSeen.delete(key);
            report.recorded.push({ regionId, metric, crossingAt: forecast.shortfall.crossingAt, revision: outcome.revision });
          }
        } catch (error) {
          onError?.(error, { regionId, metric });
        }
        // A fit is CPU work: let requests in between.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return report;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      refresh()
        .catch((error: unknown) => onError?.(error, {}))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  /** One punctuation now (joins the one in flight, if any). */
  function refresh(): Promise<RefreshReport> {
    running ??= forecastAll().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    refresh,
    start(): void {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    /** Stops the punctuation and waits for a refresh in flight. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}

export type ShortfallWatch = ReturnType<typeof createShortfallWatch>;
