import { Type } from 'typebox';
import { CAPACITY_FORECAST, type CapacityForecastQueries } from '../../projections/capacity-forecast/index.ts';
import { MAX_HORIZON_HOURS } from '../../projections/capacity-forecast/model/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { ProjectionHost } from '../../streams/processing/host.ts';
import type { RoutePlugin } from '../app.ts';
import { requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { settleConsistency } from './consistency.ts';
import { Id } from './views.ts';

export interface ForecastQueryDeps {
  projections: ProjectionHost;
  store: EventStore;
  sessionWaitMs: number;
}

const Point = Type.Object({
  t: Type.String({ description: 'Start of the hour (resolution hour) or of the 24 hours (resolution day) the point covers, ISO-8601.' }),
  mean: Type.Number(),
  lower80: Type.Number(),
  upper80: Type.Number(),
  lower95: Type.Number(),
  upper95: Type.Number(),
  resolution: Type.Union([Type.Literal('hour'), Type.Literal('day')], {
    description: 'hour for the first 14 days; then day: mean of the hours, bounds the envelope of the hourly bounds.',
  }),
});

const ForecastAnswer = Type.Object({
  regionId: Type.String(),
  metric: Type.Union([Type.Literal('vcpus'), Type.Literal('memory')]),
  model: Type.Union([Type.Literal('holt-winters'), Type.Literal('damped-trend'), Type.Literal('seasonal-naive'), Type.Null()], {
    description: 'Model chosen by backtest; null with fewer than 2 hours of history (no points then).',
  }),
  capacity: Type.Integer({ description: "The region's allocatable capacity now: vCPUs or MiB, overcommit included, failed and decommissioned nodes excluded." }),
  points: Type.Array(Point),
  shortfall: Type.Union([
    Type.Object({
      crossingAt: Type.String({ description: 'Start of the first forecast hour whose 95% upper bound exceeds the capacity.' }),
      upper95: Type.Number(),
    }),
    Type.Null(),
  ]),
});

/** Capacity forecasts from the capacity-forecast projection, for operators. */
export const forecastQueries =
  ({ projections, store, sessionWaitMs }: ForecastQueryDeps): RoutePlugin =>
  async (app) => {
    app.get('/v1/forecasts/:regionId', {
      onRequest: requireRoles('operator'),
      schema: {
        tags: ['forecasts'],
        summary: "Forecast of a region's allocated vCPUs or memory, with 80% and 95% prediction intervals and the first possible shortfall",
        params: Type.Object({ regionId: Id }, { additionalProperties: false }),
        querystring: Type.Object(
          {
            metric: Type.Optional(Type.Union([Type.Literal('vcpus'), Type.Literal('memory')], { description: 'vcpus (default) or memory (MiB).' })),
            horizon: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HORIZON_HOURS, description: `Hours ahead, 1 to ${MAX_HORIZON_HOURS} (default: ${MAX_HORIZON_HOURS}, six months).` })),
            consistency: Type.Optional(
              Type.Union([Type.Literal('eventual'), Type.Literal('session')], {
                description: 'eventual (default): read the projection as it is. session: first wait (bounded by NOVACRON_SESSION_WAIT_MS) until it has applied the write named in X-NovaCron-After.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: ForecastAnswer, ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const { regionId } = request.params;
      const { metric = 'vcpus', horizon = MAX_HORIZON_HOURS, consistency } = request.query;
      await settleConsistency(request, { consistency, host: projections, projection: CAPACITY_FORECAST, store, sessionWaitMs });
      const forecast = projections.queries<CapacityForecastQueries>(CAPACITY_FORECAST).forecast(regionId, metric, horizon);
      if (forecast === null) {
        throw new NovaCronError('NC_NOT_FOUND', `region ${regionId} has no capacity data (no node was ever registered in it)`, {
          details: { entity: 'region', id: regionId },
        });
      }
      const { observedUntil: _observedUntil, ...answer } = forecast;
      return answer;
    });
  };
