/** The routing-table projection: regions' health, capacity and cost, tenants' allowed regions; routes at query time. */
import { createRoutingProjection } from './projection.ts';

export { createRoutingProjection, ROUTING_TABLE } from './projection.ts';
export type { ExcludedReason, RouteAnswer, RoutingQueries, RoutingTenantView } from './queries.ts';

/** The instance the platform runs. */
export const routingProjection = createRoutingProjection();
