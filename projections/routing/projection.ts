import type { SqliteProjection } from '../../streams/processing/projection.ts';
import { createRoutingApply, ROUTING_EVENTS } from './apply.ts';
import { createRoutingQueries, type RoutingQueries } from './queries.ts';
import { migrateRoutingTable } from './tables.ts';

export const ROUTING_TABLE = 'routing-table';

/**
 * The routing table: per region what routing filters and ranks on, per tenant
 * its allowed regions, kept current by region, cluster, node and tenant events.
 * Routes themselves are computed at query time (`route`) with routeRegions:
 * they depend on the client's location, the state is a few dozen rows, and
 * ranking 30 regions takes ~0.1 ms, so nothing per tenant is precomputed.
 */
export function createRoutingProjection(): SqliteProjection<RoutingQueries> {
  return {
    name: ROUTING_TABLE,
    version: 1,
    handles: ROUTING_EVENTS,
    migrate: migrateRoutingTable,
    apply: createRoutingApply(),
    queries: createRoutingQueries,
  };
}
