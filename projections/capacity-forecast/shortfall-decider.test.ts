import { describe, it } from 'vitest';
import type { DomainEvent } from '../../commands/decider.ts';
import { DeciderSpecification } from '../../commands/testing/specification.ts';
import type { CapacityMetric } from '../../schemas/generated/events.ts';
import { shortfallDecider, type RecordShortfallForecast } from './shortfall-decider.ts';

const spec = DeciderSpecification.for(shortfallDecider);
const now = '2025-02-01T10:00:00.000Z';

const seen = (crossingAt: string | null, o: { metric?: CapacityMetric; clearSeenAt?: number | null } = {}): RecordShortfallForecast => ({
  type: 'RecordShortfallForecast',
  data: {
    regionId: 'eu-west',
    metric: o.metric ?? 'vcpus',
    capacity: 1800,
    model: 'damped-trend',
    crossing: crossingAt === null ? null : { at: crossingAt, upper95: 1801 },
    clearSeenAt: o.clearSeenAt ?? null,
    moveThresholdHours: 48,
  },
  metadata: { now },
});
const warned = (crossingAt: string, metric: CapacityMetric = 'vcpus'): DomainEvent => ({
  type: 'CapacityShortfallForecast',
  data: { regionId: 'eu-west', metric, capacity: 1800, crossingAt, upper95: 1801, model: 'damped-trend', forecastMadeAt: now },
});

const march1 = '2025-03-01T00:00:00.000Z';
const march2 = '2025-03-02T23:00:00.000Z'; // 47 h later
const march3 = '2025-03-03T01:00:00.000Z'; // 49 h later

describe('shortfall decider', () => {
  describe('when nothing was recorded for the metric', () => {
    it('records a crossing', () => spec.given([]).when(seen(march1)).then([warned(march1)]));
    it('records nothing without a crossing', () => spec.given([]).when(seen(null)).then([]));
    it('records a crossing of the other metric', () => spec.given([warned(march1)]).when(seen(march1, { metric: 'memory' })).then([warned(march1, 'memory')]));
  });

  describe('when a crossing was recorded', () => {
    it('records the same crossing only once', () => spec.given([warned(march1)]).when(seen(march1)).then([]));
    it('ignores a move within the threshold', () => spec.given([warned(march1)]).when(seen(march2)).then([]));
    it('records a move beyond the threshold, later or earlier', () => {
      spec.given([warned(march1)]).when(seen(march3)).then([warned(march3)]);
      spec.given([warned(march3)]).when(seen(march1)).then([warned(march1)]);
    });
    it('records a crossing that reappears after a forecast without one, seen after the warning', () =>
      spec.given([warned(march1)]).when(seen(march1, { clearSeenAt: 0 })).then([warned(march1)]));
    it('does not take a forecast without crossing seen before the last warning as a reappearance', () =>
      spec.given([warned(march1, 'memory'), warned(march1)]).when(seen(march1, { clearSeenAt: 0 })).then([]));
    it('records nothing while there is no crossing', () => spec.given([warned(march1)]).when(seen(null)).then([]));
  });
});
