import { Type } from 'typebox';
import { ANALYTICS, type AnalyticsQueries } from '../../projections/analytics/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { ProjectionHost } from '../../streams/processing/host.ts';
import type { RoutePlugin } from '../app.ts';
import { principalOf, requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { TenantId } from '../http/params.ts';
import { hourRange, MAX_RANGE_DAYS } from './analytics-time-range.ts';
import { Id } from './views.ts';

export interface AnalyticsQueryDeps {
  projections: ProjectionHost;
}

const Instant = (what: string) =>
  Type.String({
    minLength: 1,
    maxLength: 64,
    description: `${what}: an ISO-8601 instant at the start of an hour (2026-03-01T00:00:00Z, 2026-03-01T02:00:00+02:00) or a date (midnight UTC). At most ${MAX_RANGE_DAYS} days between from and to.`,
  });

const VmHoursAnswer = Type.Object({
  from: Type.String({ description: 'Start of the range, ISO-8601 UTC.' }),
  to: Type.String({ description: 'End of the range (excluded), ISO-8601 UTC.' }),
  groupBy: Type.Union([Type.Literal('tenant'), Type.Literal('region')]),
  items: Type.Array(
    Type.Object({
      tenantId: Type.Optional(Type.String({ description: 'With groupBy=tenant.' })),
      regionId: Type.Optional(Type.String({ description: 'With groupBy=region.' })),
      vms: Type.Integer({ description: 'Distinct VMs that were running (or migrating) in the range.' }),
      vmHours: Type.Number(),
      vcpuHours: Type.Number(),
      memoryGibHours: Type.Number(),
    }),
    { description: 'One per tenant or region with VM-hours in the range, by id. An interval still open counts up to now.' },
  ),
});

const CapacityAnswer = Type.Object({
  regionId: Type.String(),
  clusterId: Type.Union([Type.String(), Type.Null()], { description: 'null: the whole region.' }),
  from: Type.String(),
  to: Type.String(),
  items: Type.Array(
    Type.Object({
      hour: Type.String({ description: 'Start of the hour, ISO-8601 UTC.' }),
      allocatedVcpus: Type.Integer(),
      capacityVcpus: Type.Integer({ description: "In-service nodes' vCPUs × overcommit." }),
      allocatedMemoryMiB: Type.Integer(),
      capacityMemoryMiB: Type.Integer(),
      nodes: Type.Integer({ description: 'Nodes in service.' }),
    }),
    { description: 'One per hour of the range from the series’ first node to its latest event hour: the value at the end of the hour (the latest hour: so far). Empty for a region or cluster without nodes.' },
  ),
});

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** VM-hours and hourly capacity from the analytics projection in ClickHouse (NOVACRON_CLICKHOUSE_URL). */
export const analyticsQueries =
  ({ projections }: AnalyticsQueryDeps): RoutePlugin =>
  async (app) => {
    /** The projection's queries; NC_ANALYTICS_DISABLED when this instance runs it not (no ClickHouse). Its failures are NC_CLICKHOUSE_UNAVAILABLE (503). */
    const analytics = (): AnalyticsQueries => {
      if (!projections.names.includes(ANALYTICS)) {
        throw new NovaCronError('NC_ANALYTICS_DISABLED', 'analytics are not enabled on this instance: they are read from ClickHouse (set NOVACRON_CLICKHOUSE_URL)', {
          details: { setting: 'NOVACRON_CLICKHOUSE_URL' },
        });
      }
      return projections.queries<AnalyticsQueries>(ANALYTICS);
    };

    app.get('/v1/analytics/vm-hours', {
      onRequest: requireRoles('operator', 'tenant-admin', 'tenant-user'),
      schema: {
        tags: ['analytics'],
        summary: 'VM-hours, vCPU-hours and memory GiB-hours per tenant or per region over a range of hours',
        description:
          'Running and migrating intervals, cut at hour boundaries, over the hours in [from, to). Tenants see only their own tenant (tenantId, if given, must be theirs); ' +
          'operators see every tenant, or the one named by tenantId. 404 NC_ANALYTICS_DISABLED without ClickHouse; 503 NC_CLICKHOUSE_UNAVAILABLE (Retry-After) when it does not answer.',
        querystring: Type.Object(
          {
            from: Instant('Start of the range'),
            to: Instant('End of the range (excluded)'),
            groupBy: Type.Optional(Type.Union([Type.Literal('tenant'), Type.Literal('region')], { description: 'tenant (default) or region.' })),
            tenantId: Type.Optional(TenantId),
          },
          { additionalProperties: false },
        ),
        response: { 200: VmHoursAnswer, ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const { groupBy = 'tenant', tenantId: asked } = request.query;
      const range = hourRange(request.query.from, request.query.to);
      const principal = principalOf(request);
      let tenantId = asked;
      if (principal.role !== 'operator') {
        tenantId = principal.tenantId as string;
        if (asked !== undefined && asked !== tenantId) throw new NovaCronError('NC_NOT_FOUND', `tenant ${asked} does not exist`, { details: { entity: 'tenant', id: asked } });
      }
      const totals = await analytics().vmHoursTotals({ groupBy, ...range, ...(tenantId === undefined ? {} : { tenantId }) });
      return {
        from: iso(range.from),
        to: iso(range.to),
        groupBy,
        items: totals.map(({ key, ...sums }) => (groupBy === 'tenant' ? { tenantId: key, ...sums } : { regionId: key, ...sums })),
      };
    });

    app.get('/v1/analytics/capacity', {
      onRequest: requireRoles('operator'),
      schema: {
        tags: ['analytics'],
        summary: "A region's or a cluster's hourly allocated vCPUs and memory against its capacity",
        description:
          'From the capacity_hourly table: one point per hour in [from, to). 404 NC_ANALYTICS_DISABLED without ClickHouse; 503 NC_CLICKHOUSE_UNAVAILABLE (Retry-After) when it does not answer.',
        querystring: Type.Object(
          {
            regionId: Id,
            clusterId: Type.Optional(Id),
            from: Instant('Start of the range'),
            to: Instant('End of the range (excluded)'),
          },
          { additionalProperties: false },
        ),
        response: { 200: CapacityAnswer, ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const { regionId, clusterId } = request.query;
      const range = hourRange(request.query.from, request.query.to);
      const hours = await analytics().capacity({ regionId, ...(clusterId === undefined ? {} : { clusterId }), ...range });
      return {
        regionId,
        clusterId: clusterId ?? null,
        from: iso(range.from),
        to: iso(range.to),
        items: hours.map(({ hour, allocatedVcpus, capacityVcpus, allocatedMemoryMiB, capacityMemoryMiB, nodes }) => ({ hour, allocatedVcpus, capacityVcpus, allocatedMemoryMiB, capacityMemoryMiB, nodes })),
      };
    });
  };
