import { Type } from 'typebox';
import { ROUTING_TABLE, type RoutingQueries } from '../../projections/routing/index.ts';
import type { HybridWeights, LatencyMatrix } from '../../projections/routing/model/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { ProjectionHost } from '../../streams/processing/host.ts';
import type { RoutePlugin } from '../app.ts';
import { principalOf, requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { TenantId } from '../http/params.ts';
import { settleConsistency } from './consistency.ts';

export interface RouteQueryDeps {
  projections: ProjectionHost;
  store: EventStore;
  sessionWaitMs: number;
  routing: {
    /** NOVACRON_ROUTING_LATENCY_MATRIX, loaded (loadLatencyMatrix). */
    latencyMatrix: LatencyMatrix | undefined;
    /** NOVACRON_ROUTING_WEIGHTS. */
    hybridWeights: HybridWeights;
    /** NOVACRON_ROUTING_MIN_HEADROOM. */
    minHeadroom: number;
  };
}

/** The model's ROUTING_STRATEGIES (a strategy added there fails to compile here: the handler returns it). */
const Strategy = Type.Union([Type.Literal('geo-proximity'), Type.Literal('latency'), Type.Literal('cost'), Type.Literal('least-loaded'), Type.Literal('hybrid')], {
  description:
    'geo-proximity (great-circle km), latency (estimated RTT ms), cost (per vCPU-hour), least-loaded (allocated / capacity vCPUs), hybrid (default: weighted normalized mix, NOVACRON_ROUTING_WEIGHTS).',
});

const RouteAnswer = Type.Object({
  tenantId: Type.String(),
  strategy: Strategy,
  routes: Type.Array(
    Type.Object({
      regionId: Type.String(),
      weight: Type.Number({ description: 'Share of traffic; the weights sum to 1 and never increase down the list.' }),
      score: Type.Number({ description: "Lower is better, in the strategy's unit." }),
      distanceKm: Type.Number(),
      estLatencyMs: Type.Number(),
    }),
    { description: 'Primary first, in failover order.' },
  ),
  excluded: Type.Array(
    Type.Object({
      regionId: Type.String(),
      reason: Type.Union(
        [
          Type.Literal('not-allowed'),
          Type.Literal('retired'),
          Type.Literal('no-healthy-cluster'),
          Type.Literal('no-headroom'),
          Type.Literal('invalid'),
          Type.Literal('unknown'),
        ],
        { description: "The first filter the region fails; unknown: an allowed region that was never added." },
      ),
    }),
  ),
});

/** Routing: the regions a tenant's client should use, from the routing-table projection. */
export const routeQueries =
  ({ projections, store, sessionWaitMs, routing }: RouteQueryDeps): RoutePlugin =>
  async (app) => {
    app.get('/v1/routes', {
      onRequest: requireRoles('operator', 'tenant-admin', 'tenant-user'),
      schema: {
        tags: ['routing'],
        summary: "The regions a tenant's client should use, in failover order with traffic weights",
        description:
          "Compliance (the tenant's allowed regions) and health (retired, no healthy cluster, under NOVACRON_ROUTING_MIN_HEADROOM free vCPUs) filter first; the strategy ranks the rest. " +
          'Tenants get their own routes (tenantId from the token); operators name the tenant.',
        querystring: Type.Object(
          {
            lat: Type.Number({ minimum: -90, maximum: 90, description: "Client's latitude, degrees." }),
            lon: Type.Number({ minimum: -180, maximum: 180, description: "Client's longitude, degrees." }),
            strategy: Type.Optional(Strategy),
            cellId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "Client's network cell: its measured RTTs may be in the latency matrix." })),
            tenantId: Type.Optional(TenantId),
            consistency: Type.Optional(
              Type.Union([Type.Literal('eventual'), Type.Literal('session')], {
                description: 'eventual (default): read the routing table as it is. session: first wait (bounded by NOVACRON_SESSION_WAIT_MS) until it has applied the write named in X-NovaCron-After.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: RouteAnswer, ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const { lat, lon, strategy = 'hybrid', cellId, tenantId: asked, consistency } = request.query;
      const principal = principalOf(request);
      let tenantId: string;
      if (principal.role === 'operator') {
        if (asked === undefined) throw new NovaCronError('NC_VALIDATION', 'operators must say which tenant to route (tenantId)', { details: { location: 'querystring', field: 'tenantId' } });
        tenantId = asked;
      } else {
        tenantId = principal.tenantId as string;
        if (asked !== undefined && asked !== tenantId) throw new NovaCronError('NC_NOT_FOUND', `tenant ${asked} does not exist`, { details: { entity: 'tenant', id: asked } });
      }
      await settleConsistency(request, { consistency, host: projections, projection: ROUTING_TABLE, store, sessionWaitMs });
      const answer = projections.queries<RoutingQueries>(ROUTING_TABLE).route(tenantId, { lat, lon, ...(cellId === undefined ? {} : { cellId }) }, {
        strategy,
        minHeadroom: routing.minHeadroom,
        hybridWeights: routing.hybridWeights,
        ...(routing.latencyMatrix === undefined ? {} : { latencyMatrix: routing.latencyMatrix }),
      });
      if (answer === null) throw new NovaCronError('NC_NOT_FOUND', `tenant ${tenantId} does not exist`, { details: { entity: 'tenant', id: tenantId } });
      return answer;
    });
  };
