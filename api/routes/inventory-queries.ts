import { Type } from 'typebox';
import { aggregates, streamOf } from '../../commands/fleet/aggregates.ts';
import { readAggregate } from '../../commands/handling/handle-command.ts';
import type { Redis } from 'ioredis';
import type { InvalidationBus } from '../../projections/cache-invalidation/index.ts';
import {
  CURSOR_PATTERN,
  DEFAULT_PAGE,
  INVENTORY,
  MAX_PAGE,
  NODE_STATUSES,
  REGION_STATUSES,
  TENANT_STATUSES,
  VM_STATES,
  type InventoryQueries,
} from '../../projections/inventory/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { ProjectionHost } from '../../streams/processing/host.ts';
import type { RoutePlugin } from '../app.ts';
import { assertTenantAccess, principalOf, requireRoles } from '../auth/guards.ts';
import { createInventoryReads } from '../cache/inventory-reads.ts';
import { createL2Cache } from '../cache/l2-cache.ts';
import { createQueryCache } from '../cache/query-cache.ts';
import { createTieredCache, type ReadOptions } from '../cache/tiered-cache.ts';
import { errorResponses } from '../http/error-schema.ts';
import { TENANT_ID_PATTERN } from '../http/ids.ts';
import { TenantId } from '../http/params.ts';
import { AFTER_HEADER, ConsistencyQuery, settleRead, type Consistency } from './consistency.ts';
import { NodeItem, nodeRecordView, pageOf, RegionItem, regionRecordView, TenantItem, tenantRecordView, VmItem, vmRecordView } from './inventory-views.ts';
import { Id, IdParams, NodeView, nodeView, RegionView, regionView, TenantView, tenantView, VmView, vmView } from './views.ts';

export interface InventoryQueryDeps {
  projections: ProjectionHost;
  store: EventStore;
  /** Where the inventory's commits publish the cache tags they touch. */
  invalidations: InvalidationBus;
  /** NOVACRON_SESSION_WAIT_MS. */
  sessionWaitMs: number;
  /** Entries of the L1 query cache. */
  cacheEntries?: number;
  /** The L2 query cache in Redis (NOVACRON_REDIS_URL), or none. */
  l2?: { client: Redis; prefix: string; ttlSeconds: number } | null;
}

const anyone = requireRoles('operator', 'tenant-admin', 'tenant-user');
const operator = requireRoles('operator');

const ListConsistency = Type.Optional(
  Type.Union([Type.Literal('eventual'), Type.Literal('session')], {
    description:
      'eventual (default): read the inventory as it is. session: first wait (bounded by NOVACRON_SESSION_WAIT_MS) until it has applied the write named in X-NovaCron-After. (Lists have no strong reads.)',
  }),
);
const AfterHeader = Type.Object({
  [AFTER_HEADER]: Type.Optional(
    Type.String({ description: "The write a session read must see: a command answer's `position`, or `<streamId>@<revision>`. Implies consistency=session." }),
  ),
});
const Paging = {
  cursor: Type.Optional(Type.String({ pattern: CURSOR_PATTERN, description: 'The nextCursor of the previous page, as it is.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: `Items per page (default ${DEFAULT_PAGE}).` })),
};
const literals = <T extends string>(values: readonly T[], description: string) => Type.Optional(Type.Union(values.map((v) => Type.Literal(v)), { description }));

const notFound = (entity: string, id: string) => new NovaCronError('NC_NOT_FOUND', `${entity} ${id} does not exist`, { details: { entity, id } });

/**
 * The inventory's queries: lists of VMs (a tenant sees its own), tenants,
 * nodes (operators) and regions, and the single VM, tenant, node and region.
 * Every read takes `consistency`: eventual (default) reads the inventory
 * projection through the query cache (L1, then the Redis L2 when
 * NOVACRON_REDIS_URL is set), session first waits for the write named in
 * X-NovaCron-After, strong (single resources only) folds the aggregate from the
 * event store as the command side does.
 */
export const inventoryQueries =
  ({ projections, store, invalidations, sessionWaitMs, cacheEntries = 10_000, l2 = null }: InventoryQueryDeps): RoutePlugin =>
  async (app) => {
    const l1 = createQueryCache({ bus: invalidations, registry: app.metrics.registry, max: cacheEntries });
    app.addHook('onClose', async () => l1.close());
    const cache = createTieredCache({
      l1,
      l2: l2 === null ? null : createL2Cache({ ...l2, registry: app.metrics.registry }),
      checkpoint: () => projections.checkpoint(INVENTORY),
    });
    const reads = createInventoryReads({ queries: () => projections.queries<InventoryQueries>(INVENTORY), cache });
    /**
     * Settles the consistency, and says what the cache may answer: a session
     * read needs entries that reflect the write it waited for. Positions say
     * that only on the global log; fed per stream, a session read skips the caches.
     */
    const settle = async (request: Parameters<typeof settleRead>[0], consistency: Consistency | undefined, strongAllowed = false): Promise<{ mode: Consistency; read: ReadOptions }> => {
      const { mode, after } = await settleRead(request, { consistency, host: projections, projection: INVENTORY, store, sessionWaitMs, strongAllowed });
      if (after === null) return { mode, read: {} };
      return { mode, read: { atLeast: projections.ordering(INVENTORY) === 'global' ? after.position : Number.POSITIVE_INFINITY } };
    };

    // ── lists ───────────────────────────────────────────────────────────────

    app.get('/v1/vms', {
      onRequest: anyone,
      schema: {
        tags: ['vms'],
        summary: 'VMs, by id (deleted ones only with state=deleted); tenants see their own',
        headers: AfterHeader,
        querystring: Type.Object(
          {
            state: literals(VM_STATES, 'Only VMs in this state (without it, every VM but the deleted ones).'),
            regionId: Type.Optional(Id),
            nodeId: Type.Optional(Id),
            tenantId: Type.Optional(Type.String({ pattern: TENANT_ID_PATTERN, description: "Operators: one tenant's VMs. A tenant principal may only name itself." })),
            ...Paging,
            consistency: ListConsistency,
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(VmItem), ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const { consistency, tenantId: asked, ...filter } = request.query;
      const principal = principalOf(request);
      let tenantId = asked;
      if (principal.role !== 'operator') {
        if (asked !== undefined && asked !== principal.tenantId) throw notFound('tenant', asked);
        tenantId = principal.tenantId ?? undefined;
        if (tenantId === undefined) throw new NovaCronError('NC_FORBIDDEN', 'a tenant principal without a tenant may not list VMs', { details: { role: principal.role } });
      }
      const { read } = await settle(request, consistency);
      const page = await reads.vms({ ...filter, ...(tenantId === undefined ? {} : { tenantId }) }, read);
      return { items: page.items.map((v) => ({ ...vmRecordView(v), revision: v.revision })), nextCursor: page.nextCursor };
    });

    app.get('/v1/tenants', {
      onRequest: operator,
      schema: {
        tags: ['tenants'],
        summary: 'Tenants with their quota and usage, by id (deleted ones included, status deleted)',
        headers: AfterHeader,
        querystring: Type.Object({ status: literals(TENANT_STATUSES, 'Only tenants in this status.'), ...Paging, consistency: ListConsistency }, { additionalProperties: false }),
        response: { 200: pageOf(TenantItem), ...errorResponses(400, 401, 403, 503) },
      },
    }, async (request) => {
      const { consistency, ...filter } = request.query;
      const { read } = await settle(request, consistency);
      const page = await reads.tenants(filter, read);
      return { items: page.items.map((t) => ({ ...tenantRecordView(t), revision: t.revision })), nextCursor: page.nextCursor };
    });

    app.get('/v1/nodes', {
      onRequest: operator,
      schema: {
        tags: ['nodes'],
        summary: 'Nodes with their capacity, allocation and VMs, by id',
        headers: AfterHeader,
        querystring: Type.Object(
          {
            regionId: Type.Optional(Id),
            clusterId: Type.Optional(Id),
            status: literals(NODE_STATUSES, 'Only nodes in this status.'),
            ...Paging,
            consistency: ListConsistency,
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(NodeItem), ...errorResponses(400, 401, 403, 503) },
      },
    }, async (request) => {
      const { consistency, ...filter } = request.query;
      const { read } = await settle(request, consistency);
      const page = await reads.nodes(filter, read);
      return { items: page.items.map((n) => ({ ...nodeRecordView(n), revision: n.revision })), nextCursor: page.nextCursor };
    });

    app.get('/v1/regions', {
      onRequest: anyone,
      schema: {
        tags: ['regions'],
        summary: 'Regions by id; for operators with their totals (nodes, VMs, vCPUs and memory), which tenants do not see',
        headers: AfterHeader,
        querystring: Type.Object({ status: literals(REGION_STATUSES, 'Only regions in this status.'), ...Paging, consistency: ListConsistency }, { additionalProperties: false }),
        response: { 200: pageOf(RegionItem), ...errorResponses(400, 401, 503) },
      },
    }, async (request) => {
      const { consistency, ...filter } = request.query;
      const { read } = await settle(request, consistency);
      const page = await reads.regions(filter, read);
      // Fleet-wide totals are the operators' (a tenant learns nothing of others' VMs or the fleet's size from them).
      const operator = principalOf(request).role === 'operator';
      return { items: page.items.map((r) => ({ ...regionRecordView(r), ...(operator ? { totals: r.totals } : {}), revision: r.revision })), nextCursor: page.nextCursor };
    });

    // ── single resources ────────────────────────────────────────────────────

    const Single = Type.Object({ consistency: ConsistencyQuery }, { additionalProperties: false });

    app.get('/v1/vms/:id', {
      onRequest: anyone,
      schema: {
        tags: ['vms'],
        summary: "A VM's current state (another tenant's VM answers 404)",
        headers: AfterHeader,
        params: IdParams,
        querystring: Single,
        response: { 200: Type.Object({ ...VmView.properties, revision: Type.Integer() }), ...errorResponses(400, 401, 404, 503) },
      },
    }, async (request) => {
      const { id } = request.params;
      const principal = principalOf(request);
      const { mode, read } = await settle(request, request.query.consistency, true);
      if (mode === 'strong') {
        const { state, revision } = await readAggregate(store, streamOf.vm(id), aggregates.vm);
        if (state === null) throw notFound('vm', id);
        assertTenantAccess(principal, state.tenantId, { entity: 'vm', id });
        return { ...vmView(state), revision };
      }
      const vm = await reads.vm(id, read);
      if (vm === null) throw notFound('vm', id);
      assertTenantAccess(principal, vm.tenantId, { entity: 'vm', id });
      return { ...vmRecordView(vm), revision: vm.revision };
    });

    app.get('/v1/tenants/:id', {
      onRequest: anyone,
      schema: {
        tags: ['tenants'],
        summary: 'A tenant with its quota and usage (a tenant may read itself)',
        headers: AfterHeader,
        params: Type.Object({ id: TenantId }, { additionalProperties: false }),
        querystring: Single,
        response: { 200: Type.Object({ tenant: TenantView, revision: Type.Integer() }), ...errorResponses(400, 401, 404, 503) },
      },
    }, async (request) => {
      const { id } = request.params;
      assertTenantAccess(principalOf(request), id, { entity: 'tenant', id });
      const { mode, read } = await settle(request, request.query.consistency, true);
      if (mode === 'strong') {
        const { state, revision } = await readAggregate(store, streamOf.tenant(id), aggregates.tenant);
        if (state === null) throw notFound('tenant', id);
        return { tenant: tenantView(state), revision };
      }
      const tenant = await reads.tenant(id, read);
      if (tenant === null) throw notFound('tenant', id);
      return { tenant: tenantRecordView(tenant), revision: tenant.revision };
    });

    app.get('/v1/nodes/:id', {
      onRequest: operator,
      schema: {
        tags: ['nodes'],
        summary: 'A node: capacity, allocation, its VMs',
        headers: AfterHeader,
        params: IdParams,
        querystring: Single,
        response: { 200: Type.Object({ node: NodeView, revision: Type.Integer() }), ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const { id } = request.params;
      const { mode, read } = await settle(request, request.query.consistency, true);
      if (mode === 'strong') {
        const { state, revision } = await readAggregate(store, streamOf.node(id), aggregates.node);
        if (state === null) throw notFound('node', id);
        return { node: nodeView(state), revision };
      }
      const node = await reads.node(id, read);
      if (node === null) throw notFound('node', id);
      return { node: nodeRecordView(node), revision: node.revision };
    });

    app.get('/v1/regions/:id', {
      onRequest: anyone,
      schema: {
        tags: ['regions'],
        summary: 'A region',
        headers: AfterHeader,
        params: IdParams,
        querystring: Single,
        response: { 200: Type.Object({ region: RegionView, revision: Type.Integer() }), ...errorResponses(400, 401, 404, 503) },
      },
    }, async (request) => {
      const { id } = request.params;
      const { mode, read } = await settle(request, request.query.consistency, true);
      if (mode === 'strong') {
        const { state, revision } = await readAggregate(store, streamOf.region(id), aggregates.region);
        if (state === null) throw notFound('region', id);
        return { region: regionView(state), revision };
      }
      const region = await reads.region(id, read);
      if (region === null) throw notFound('region', id);
      return { region: regionRecordView(region), revision: region.revision };
    });
  };
