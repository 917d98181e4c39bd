import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import type { AppMetrics } from '../metrics/metrics.ts';
import { errorResponses } from './error-schema.ts';

export interface OpsRoutesOptions {
  store: EventStore;
  metrics: AppMetrics;
  /** How long /readyz waits for the event store. */
  readinessTimeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Public operational routes: liveness, readiness and Prometheus metrics (no
 * auth). Once shutdown begins every request, these included, answers 503
 * NC_SHUTTING_DOWN (see app.ts), so load balancers stop sending traffic.
 */
export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (app, { store, metrics, readinessTimeoutMs = 2_000 }) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process is up',
        tags: ['ops'],
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up' }), ...errorResponses() },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the event store answers (503 with Retry-After otherwise)',
        tags: ['ops'],
        security: [],
        response: {
          200: Type.Object(
            // No head position: it would tell anyone how busy the log is (operators read it from /metrics or `novacron status`).
            { status: Type.Literal('ready') },
            { description: 'The event store answers' },
          ),
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      try {
        await withTimeout(store.headPosition(), readinessTimeoutMs);
        return { status: 'ready' as const };
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed: the event store does not answer');
        throw new NovaCronError('NC_STORE_UNAVAILABLE', 'the event store does not answer', { retriable: true, cause: error });
      }
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['ops'],
        security: [],
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), ...errorResponses() },
      },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
};
