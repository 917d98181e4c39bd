import { Type } from 'typebox';
import { SHARD_MAP, type ShardMapQueries, type ShardPlacementAnswer } from '../../projections/shard-map/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { ProjectionHost } from '../../streams/processing/host.ts';
import type { RoutePlugin } from '../app.ts';
import { principalOf, requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { settleConsistency } from './consistency.ts';
import { Id } from './views.ts';

export interface ShardQueryDeps {
  projections: ProjectionHost;
  store: EventStore;
  sessionWaitMs: number;
}

const Consistency = Type.Optional(
  Type.Union([Type.Literal('eventual'), Type.Literal('session')], {
    description: 'eventual (default): read the shard map as it is. session: first wait (bounded by NOVACRON_SESSION_WAIT_MS) until it has applied the write named in X-NovaCron-After.',
  }),
);

const Placement = Type.Object({
  key: Type.String(),
  region: Type.String(),
  shard: Type.Integer({ description: 'Primary shard, 0 to shards − 1.' }),
  replicas: Type.Array(Type.Integer(), { description: 'The next 2 distinct shards clockwise on the ring (replication factor 3).' }),
  source: Type.Union([Type.Literal('vm'), Type.Literal('ring')], {
    description: "vm: the stored placement of the VM with this id. ring: the key hashed on the region's ring.",
  }),
});

const Plan = Type.Object({
  planId: Type.Integer({ description: 'Position of the event that changed the shard count.' }),
  occurredAt: Type.String(),
  fromShards: Type.Integer(),
  toShards: Type.Integer(),
  movedFraction: Type.Number({ description: 'Share of the hash space whose primary shard changed (exact, from the two rings).' }),
  vms: Type.Integer({ description: 'VMs stored in the region when the plan was made.' }),
  movedVms: Type.Integer({ description: 'Of those, the VMs whose primary shard changed.' }),
  moves: Type.Array(
    Type.Object({ from: Type.Integer(), to: Type.Integer(), fraction: Type.Number(), vms: Type.Integer() }),
    { description: 'The 20 largest (from → to) moves: share of the hash space, and VMs that actually moved.' },
  ),
  movedKeys: Type.Array(Type.Object({ key: Type.String(), from: Type.Integer(), to: Type.Integer() }), {
    description: 'The VMs that moved, by key (the first 1000; movedVms counts them all).',
  }),
});

const notFound = (entity: string, id: string, message = `${entity} ${id} does not exist`) =>
  new NovaCronError('NC_NOT_FOUND', message, { details: { entity, id } });

const view = ({ key, region, shard, replicas, source }: ShardPlacementAnswer) => ({ key, region, shard, replicas, source });

/** The shard map: where a key lives, and each region's shards and rebalance plans. */
export const shardQueries =
  ({ projections, store, sessionWaitMs }: ShardQueryDeps): RoutePlugin =>
  async (app) => {
    const shardMap = () => projections.queries<ShardMapQueries>(SHARD_MAP);

    app.get('/v1/shards/lookup', {
      onRequest: requireRoles('operator', 'tenant-admin', 'tenant-user'),
      schema: {
        tags: ['shards'],
        summary: 'Where a key lives: region, primary shard and replicas',
        description:
          "A VM id answers the VM's stored placement (its region is where it runs). With regionId, any other key is hashed on that region's ring. " +
          "Tenants may look up their own VMs only; anything else answers 404.",
        querystring: Type.Object(
          {
            key: Type.String({ minLength: 1, maxLength: 512, description: 'A VM id, or (with regionId) any key.' }),
            regionId: Type.Optional(Id),
            consistency: Consistency,
          },
          { additionalProperties: false },
        ),
        response: { 200: Placement, ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const { key, regionId, consistency } = request.query;
      await settleConsistency(request, { consistency, host: projections, projection: SHARD_MAP, store, sessionWaitMs });
      const principal = principalOf(request);
      if (principal.role !== 'operator') {
        const vm = await shardMap().lookup(key);
        if (!vm || vm.tenantId !== principal.tenantId || (regionId !== undefined && regionId !== vm.region)) throw notFound('vm', key);
        return view(vm);
      }
      const answer = await shardMap().lookup(key, regionId === undefined ? {} : { regionId });
      if (answer) return view(answer);
      if (regionId !== undefined) throw notFound('region', regionId, `region ${regionId} is not in the shard map`);
      throw notFound('vm', key, `vm ${key} does not exist; give regionId to hash any other key on that region's ring`);
    });

    app.get('/v1/regions/:id/shards', {
      onRequest: requireRoles('operator'),
      schema: {
        tags: ['shards'],
        summary: "A region's shards (VMs per shard, share of the ring) and its rebalance plans, newest first",
        params: Type.Object({ id: Id }, { additionalProperties: false }),
        querystring: Type.Object(
          {
            plans: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'How many plans, newest first (default 10).' })),
            consistency: Consistency,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            regionId: Type.String(),
            virtualNodes: Type.Integer({ description: 'Points per shard on the ring.' }),
            replicationFactor: Type.Integer(),
            shards: Type.Array(
              Type.Object({
                shard: Type.Integer(),
                vms: Type.Integer({ description: 'VMs whose primary shard it is.' }),
                ringFraction: Type.Number({ description: 'Share of the hash space the shard owns as primary.' }),
              }),
            ),
            plans: Type.Array(Plan),
          }),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    }, async (request) => {
      const { id } = request.params;
      await settleConsistency(request, { consistency: request.query.consistency, host: projections, projection: SHARD_MAP, store, sessionWaitMs });
      const q = shardMap();
      const region = q.region(id);
      const shards = q.shards(id);
      if (!region || !shards) throw notFound('region', id, `region ${id} is not in the shard map`);
      const plans = q.plans(id, { plans: request.query.plans ?? 10, moves: 20, movedKeys: 1000 });
      return {
        regionId: id,
        virtualNodes: region.virtualNodes,
        replicationFactor: region.replicationFactor,
        shards,
        plans: plans.map(({ regionId: _, ...plan }) => plan),
      };
    });
  };
