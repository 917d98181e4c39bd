import fp from 'fastify-plugin';
import { createFleetService } from '../commands/fleet/service.ts';
import { createRunner } from '../commands/fleet/runner.ts';
import { createReservationSweeper } from '../commands/fleet/sweeper.ts';
import { createRelayFromSettings, registerRelayMetrics } from '../connectors/relay/index.ts';
import type { FleetHooks } from '../commands/fleet/runner.ts';
import { createShortfallWatch } from '../projections/capacity-forecast/shortfall-watch.ts';
import { isNovaCronError } from '../streams/errors/index.ts';
import type { RoutePlugin } from './app.ts';
import { loadLatencyMatrix } from './config.ts';
import type { Platform } from './platform.ts';
import { registerInvalidationMetrics } from './metrics/invalidation-metrics.ts';
import { createInventoryDirectory } from './placement/inventory-directory.ts';
import { adminRoutes } from './routes/admin-routes.ts';
import { analyticsQueries } from './routes/analytics-queries.ts';
import { eventFeed } from './routes/event-feed.ts';
import { fleetRoutes } from './routes/fleet-routes.ts';
import { auditRoutes, requestAuditor } from './routes/audit-routes.ts';
import { inventoryQueries } from './routes/inventory-queries.ts';
import { forecastQueries } from './routes/forecast-queries.ts';
import { routeQueries } from './routes/route-queries.ts';
import { shardQueries } from './routes/shard-queries.ts';
import { tenantRoutes } from './routes/tenant-routes.ts';
import { vmRoutes } from './routes/vm-routes.ts';

/**
 * What the HTTP API is given by the rest of NovaCron. The one place where
 * command services and route plugins are plugged in: `startServer` calls
 * `wireApi(platform)` and passes the result to `buildApp`.
 */
export interface ApiWiring {
  /** Route plugins (api/routes/*), registered after auth, idempotency and errors. */
  plugins: RoutePlugin[];
  tenantExists: (tenantId: string) => Promise<boolean>;
}

export interface WireOptions {
  /** Run the Kafka relay in this process (default: when NOVACRON_KAFKA_BROKERS is set; `novacron start --role api` says false). */
  relay?: boolean;
}

/** Longest the API's start waits (at most 10 × NOVACRON_REDIS_TIMEOUT_MS) for the Redis invalidation subscription before going on without its caches. */
const REDIS_WAIT_MS = 2000;

export function wireApi(platform: Platform, { relay: withRelay = platform.config.kafka.brokers !== undefined }: WireOptions = {}): ApiWiring {
  const { config, store, keys } = platform;
  // Filled in once the app (and its metrics registry) exists; see the metrics plugin below.
  const hooks: FleetHooks = {};
  let logSweepError: (error: unknown) => void = () => undefined;
  const fleet = createFleetService({
    store,
    destroyTenantKey: (tenantId) => keys.destroyDataKey(tenantId),
    reservationTimeoutMs: config.reservationTimeoutMs,
    hooks,
    // Placement's candidates come from the inventory projection (waiting, bounded, for it to catch up).
    directory: createInventoryDirectory({ host: platform.projections, store, waitMs: config.sessionWaitMs }),
  });
  const sweeper = createReservationSweeper({
    store,
    runner: createRunner(store, hooks),
    intervalMs: config.sweepIntervalMs,
    onError: (error) => logSweepError(error),
  });
  let logForecastError: (error: unknown, where: object) => void = () => undefined;
  const shortfallWatch = createShortfallWatch({
    store,
    projections: platform.projections,
    intervalMs: config.forecastIntervalMs,
    onError: (error, where) => logForecastError(error, where),
  });

  // The relay (connectors/relay) publishes the log to Kafka beside the API; it logs through the app's logger once there is one.
  let relayLog: (level: 'debug' | 'info' | 'warn' | 'error', fields: object, message: string) => void = () => undefined;
  const relay = withRelay
    ? createRelayFromSettings({
        store,
        settings: config.kafka,
        dataDir: config.dataDir,
        log: { debug: (f, m) => relayLog('debug', f, m), info: (f, m) => relayLog('info', f, m), warn: (f, m) => relayLog('warn', f, m), error: (f, m) => relayLog('error', f, m) },
      })
    : null;
  // Read at start: a bad NOVACRON_ROUTING_LATENCY_MATRIX fails here, naming the variable.
  const routing = { latencyMatrix: loadLatencyMatrix(config.routingLatencyMatrix), hybridWeights: config.routingWeights, minHeadroom: config.routingMinHeadroom };

  /** Command metrics, the sweeper and the shortfall watcher follow the app's lifecycle. */
  const lifecycle: RoutePlugin = fp(async (app) => {
    hooks.commandHandled = (type, outcome, seconds) => {
      const label = outcome === 'ok' ? 'accepted' : outcome;
      app.metrics.commands.inc({ type, outcome: label });
      app.metrics.commandDuration.observe({ type, outcome: label }, seconds);
    };
    hooks.compensated = (step) => app.metrics.countCompensation('vm', step);
    hooks.appended = (streamId) => app.metrics.countAppend(streamId);
    logSweepError = (error) => app.log.error({ err: error }, 'reservation sweep failed');
    logForecastError = (error, where) => app.log.error({ err: error, ...where }, 'capacity shortfall forecast failed');
    relayLog = (level, fields, message) => app.log[level]({ component: 'relay', ...fields }, message);
    if (relay) registerRelayMetrics(app.metrics.registry, relay);
    const { redis } = platform;
    if (redis) {
      redis.useLog({ info: (f, m) => app.log.info(f, m), warn: (f, m) => app.log.warn(f, m), error: (f, m) => app.log.error(f, m) });
      registerInvalidationMetrics(app.metrics.registry, redis.bus);
    }
    app.addHook('onReady', async () => {
      // The L1 cache stores nothing until the invalidation subscription is live; Redis down leaves the API up, reading the projections.
      const waitMs = Math.min(REDIS_WAIT_MS, 10 * config.redis.timeoutMs);
      if (redis && !(await redis.bus.whenLive(waitMs))) {
        app.log.warn({ channel: redis.bus.channel }, `not subscribed to the Redis invalidation channel after ${waitMs} ms: queries read the projections until it is`);
      }
      await platform.resumeInvalidations();
      await platform.projections.start();
      // Settle what a previous run left half-done before taking new commands.
      await sweeper.sweep();
      sweeper.start();
      shortfallWatch.start();
      // Another relay holding this store's lock (NC_RELAY_RUNNING) leaves the API up, without one here.
      await relay?.start().catch((error: unknown) => {
        if (!isNovaCronError(error, 'NC_RELAY_RUNNING')) throw error;
        app.log.error({ err: error }, 'relay not started here: another one publishes this event store (run the API with --role api)');
      });
    });
    app.addHook('onClose', async () => {
      await relay?.stop();
      await shortfallWatch.stop();
      await sweeper.stop();
    });
  });

  return {
    plugins: [lifecycle, fleetRoutes(fleet), tenantRoutes(fleet, requestAuditor(store)), vmRoutes(fleet), inventoryQueries({ projections: platform.projections, store, invalidations: platform.invalidations, sessionWaitMs: config.sessionWaitMs, l2: platform.redis && { client: platform.redis.client, prefix: platform.redis.prefix, ttlSeconds: platform.redis.ttlSeconds } }), forecastQueries({ projections: platform.projections, store, sessionWaitMs: config.sessionWaitMs }), shardQueries({ projections: platform.projections, store, sessionWaitMs: config.sessionWaitMs }), routeQueries({ projections: platform.projections, store, sessionWaitMs: config.sessionWaitMs, routing }), adminRoutes(platform.projections), analyticsQueries({ projections: platform.projections }), eventFeed({ store, catalog: platform.catalog, ...config.feed }), auditRoutes({ store })],
    tenantExists: async (tenantId) => {
      try {
        const { state } = await fleet.read('tenant', tenantId);
        return state !== null && (state as { status: string }).status !== 'deleted';
      } catch (error) {
        if (isNovaCronError(error, 'NC_STREAM_ID_INVALID')) return false;
        throw error;
      }
    },
  };
}
