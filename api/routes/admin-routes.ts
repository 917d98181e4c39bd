import { Type } from 'typebox';
import type { ProjectionHost } from '../../streams/processing/host.ts';
import type { RoutePlugin } from '../app.ts';
import { requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';

const ProcessorStatus = Type.Object({
  name: Type.String(),
  state: Type.String({ description: 'idle, running, stopped or failed' }),
  generation: Type.Integer({ description: 'Active generation of the projection (a replay makes a new one).' }),
  version: Type.Integer({ description: "Version of the projection's tables and apply function." }),
  checkpoint: Type.Integer({ description: 'Position of the last event applied (fed from Kafka: Σ over partitions of the stored offset + 1).' }),
  head: Type.Integer({ description: 'Position of the last event in the log (fed from Kafka: Σ over partitions of the high watermark).' }),
  lag: Type.Integer({ description: 'head − checkpoint: events not applied yet.' }),
  source: Type.Optional(Type.Literal('kafka', { description: 'Present when the projection is fed from Kafka by `--role processor` instances (state idle: its processor runs elsewhere).' })),
  parked: Type.Integer({ description: 'Events the processor could not apply, kept with their error.' }),
  processed: Type.Integer({ description: 'Events applied or skipped since this process started.' }),
  error: Type.Union([Type.String(), Type.Null()]),
});

/** Operators' view of the processors: the same as `novacron status`. */
export const adminRoutes =
  (host: ProjectionHost): RoutePlugin =>
  async (app) => {
    app.get('/v1/admin/processors', {
      onRequest: requireRoles('operator'),
      schema: {
        tags: ['admin'],
        summary: 'Each processor with its checkpoint, lag and parked events',
        response: { 200: Type.Object({ processors: Type.Array(ProcessorStatus) }), ...errorResponses(401, 403, 503) },
      },
    }, async () => ({ processors: await host.status() }));
  };
