import type { Command } from '../../commands/command.ts';
import { unknownCommand, type Decider, type DomainEvent } from '../../commands/decider.ts';
import type { CapacityMetric } from '../../schemas/generated/events.ts';
import { HOUR_MS } from './hours.ts';

/** Shortfall warnings of a region live in their own stream, never in the region aggregate's. */
export const forecastStreamOf = (regionId: string): string => `forecast-${regionId}`;

/**
 * A forecast as the watcher saw it. `clearSeenAt`: the stream revision at which
 * this watcher last saw the metric's forecast without a crossing (null when it
 * has not since it started): a crossing that shows up again after that is new.
 */
export type RecordShortfallForecast = Command<
  'RecordShortfallForecast',
  {
    regionId: string;
    metric: CapacityMetric;
    capacity: number;
    model: string;
    crossing: { at: string; upper95: number } | null;
    clearSeenAt: number | null;
    /** A crossing that moved by more than this (either way) since the last warning is warned about again. */
    moveThresholdHours: number;
  }
>;

export interface ShortfallState {
  /** Revision of the stream's last event (-1: no stream). */
  revision: number;
  /** The last warning per metric: its revision and crossing. */
  last: Partial<Record<CapacityMetric, { revision: number; crossingAt: string }>>;
}

const initialState = (): ShortfallState => ({ revision: -1, last: {} });

function evolve(state: ShortfallState, event: DomainEvent): ShortfallState {
  const revision = state.revision + 1;
  if (event.type !== 'CapacityShortfallForecast') return { ...state, revision };
  return { revision, last: { ...state.last, [event.data.metric]: { revision, crossingAt: event.data.crossingAt } } };
}

/**
 * One warning per crossing: a crossing is recorded when the metric has none
 * recorded yet, when it reappears after a forecast without one (seen after the
 * last warning), or when it moved by more than the threshold. Otherwise nothing.
 */
function decide(command: RecordShortfallForecast, state: ShortfallState): DomainEvent<'CapacityShortfallForecast'>[] {
  switch (command.type) {
    case 'RecordShortfallForecast': {
      const { regionId, metric, capacity, model, crossing, clearSeenAt, moveThresholdHours } = command.data;
      if (crossing === null) return [];
      const last = state.last[metric];
      const fresh =
        last === undefined ||
        (clearSeenAt !== null && clearSeenAt >= last.revision) ||
        Math.abs(Date.parse(crossing.at) - Date.parse(last.crossingAt)) > moveThresholdHours * HOUR_MS;
      if (!fresh) return [];
      return [
        {
          type: 'CapacityShortfallForecast',
          data: { regionId, metric, capacity, crossingAt: crossing.at, upper95: crossing.upper95, model, forecastMadeAt: command.metadata.now },
        },
      ];
    }
    default:
      // One command type: TypeScript narrows a single-member union no further, hence the cast.
      return unknownCommand(command as never);
  }
}

export const shortfallDecider: Decider<RecordShortfallForecast, DomainEvent, ShortfallState> = { initialState, evolve, decide };
