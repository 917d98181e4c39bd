import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { isNovaCronError } from '../../streams/errors/index.ts';

/**
 * The metrics of one app, in its own prom-client Registry (so two apps in one
 * process, as in tests, never share counters). Served at /metrics and
 * decorated as `app.metrics` for the command side.
 */
export interface AppMetrics {
  readonly registry: Registry;
  /** novacron_http_requests_total{route,method,status}: route is the route pattern (`/v1/tenants/:id`), `(unmatched)` for 404s. */
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  /** novacron_commands_total{type,outcome}: outcome is `accepted`, the NC_* code it was rejected with, or `error`. */
  readonly commands: Counter<'type' | 'outcome'>;
  /** novacron_command_duration_seconds{type,outcome}: decide + append time of a command. */
  readonly commandDuration: Histogram<'type' | 'outcome'>;
  /** novacron_event_appends_total{category}: appends to the event store by stream category. */
  readonly appends: Counter<'category'>;
  /** novacron_saga_compensations_total{saga,step}: compensations run by a saga (e.g. vm-create, release-quota). */
  readonly sagaCompensations: Counter<'saga' | 'step'>;
  /** Runs a command, then counts it and records its duration with its outcome; rethrows its error. */
  observeCommand<T>(type: string, run: () => Promise<T>): Promise<T>;
  /** Counts one append to `streamId` (labelled by its category, the part before the first `-`). */
  countAppend(streamId: string): void;
  countCompensation(saga: string, step: string): void;
}

const COMMAND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function outcomeOf(error: unknown): string {
  return isNovaCronError(error) ? error.code : 'error';
}

export function createMetrics(): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'novacron_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const commands = new Counter({
    name: 'novacron_commands_total',
    help: 'Commands handled, by command type and outcome (accepted, an NC_* code, or error).',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const commandDuration = new Histogram({
    name: 'novacron_command_duration_seconds',
    help: 'Time to handle a command (load, decide, append), by command type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    buckets: COMMAND_BUCKETS,
    registers: [registry],
  });
  const appends = new Counter({
    name: 'novacron_event_appends_total',
    help: 'Appends to the event store, by stream category.',
    labelNames: ['category'] as const,
    registers: [registry],
  });
  const sagaCompensations = new Counter({
    name: 'novacron_saga_compensations_total',
    help: 'Compensating steps run by sagas, by saga and step.',
    labelNames: ['saga', 'step'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    commands,
    commandDuration,
    appends,
    sagaCompensations,
    async observeCommand(type, run) {
      const stop = commandDuration.startTimer({ type });
      let outcome = 'accepted';
      try {
        return await run();
      } catch (error) {
        outcome = outcomeOf(error);
        throw error;
      } finally {
        stop({ outcome });
        commands.inc({ type, outcome });
      }
    },
    countAppend(streamId) {
      const dash = streamId.indexOf('-');
      appends.inc({ category: dash > 0 ? streamId.slice(0, dash) : streamId });
    },
    countCompensation(saga, step) {
      sagaCompensations.inc({ saga, step });
    },
  };
}
