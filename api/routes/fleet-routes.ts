import { Type } from 'typebox';
import type { FleetService } from '../../commands/fleet/service.ts';
import { REGION_SHARDS } from '../../commands/region/decider.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { RoutePlugin } from '../app.ts';
import { requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { commandContext } from './command-context.ts';
import { optionalBody } from './optional-body.ts';
import { ClusterView, clusterView, Id, IdParams, Labels, NodeView, nodeView, Recorded, recorded, RegionView, regionView } from './views.ts';
import type { Cluster } from '../../commands/cluster/state.ts';
import type { Node } from '../../commands/node/state.ts';
import type { Region } from '../../commands/region/state.ts';

const operator = requireRoles('operator');

const Text = (maxLength = 255) => Type.String({ minLength: 1, maxLength });
const Capacity = Type.Object(
  {
    vcpus: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    memoryMiB: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
    diskGiB: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  },
  { additionalProperties: false },
);
const Overcommit = Type.Number({ minimum: 1, maximum: 16, description: 'vCPU and memory overcommit ratio (disk is never overcommitted); default 1.0.' });
const Reason = Type.Object({ reason: Type.Optional(Text(1000)) }, { additionalProperties: false });

function exists<T>(state: T | null, entity: string, id: string): T {
  if (state === null) throw new NovaCronError('NC_NOT_FOUND', `${entity} ${id} does not exist`, { details: { entity, id } });
  return state;
}

/** Regions, clusters and nodes: the fleet's capacity, run by operators. */
export const fleetRoutes =
  (fleet: FleetService): RoutePlugin =>
  async (app) => {
    const RegionAnswer = Type.Object({ ...Recorded, region: RegionView });
    const ClusterAnswer = Type.Object({ ...Recorded, cluster: ClusterView });
    const NodeAnswer = Type.Object({ ...Recorded, node: NodeView });

    app.post('/v1/regions', {
      onRequest: operator,
      schema: {
        tags: ['regions'],
        summary: 'Add a region',
        body: Type.Object(
          {
            id: Id,
            name: Text(),
            lat: Type.Number({ minimum: -90, maximum: 90 }),
            lon: Type.Number({ minimum: -180, maximum: 180 }),
            complianceZone: Text(64),
            costPerVcpuHour: Type.Number({ minimum: 0, maximum: 1000 }),
            shards: Type.Optional(Type.Integer({ minimum: REGION_SHARDS.min, maximum: REGION_SHARDS.max, description: `Shards of the region (default ${REGION_SHARDS.default}).` })),
          },
          { additionalProperties: false },
        ),
        response: { 201: RegionAnswer, ...errorResponses(400, 401, 403, 409, 503) },
      },
    }, async (request, reply) => {
      const { id, ...rest } = request.body;
      const outcome = await fleet.execute('region', id, { type: 'AddRegion', data: { regionId: id, ...rest } }, commandContext(request));
      return reply.code(201).send({ ...recorded(outcome), region: regionView(outcome.state as Region) });
    });

    app.patch('/v1/regions/:id', {
      onRequest: operator,
      schema: {
        tags: ['regions'],
        summary: 'Update a region (cost, coordinates, compliance zone, shard count)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Text()),
            lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
            lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
            complianceZone: Type.Optional(Text(64)),
            costPerVcpuHour: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
            shards: Type.Optional(Type.Integer({ minimum: REGION_SHARDS.min, maximum: REGION_SHARDS.max })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: RegionAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      const outcome = await fleet.execute('region', request.params.id, { type: 'UpdateRegion', data: { regionId: request.params.id, ...request.body } }, commandContext(request));
      return { ...recorded(outcome), region: regionView(outcome.state as Region) };
    });

    app.post('/v1/regions/:id/retire', {
      onRequest: operator,
      schema: { tags: ['regions'], summary: 'Retire a region: no placements after', params: IdParams, response: { 200: RegionAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) } },
    }, async (request) => {
      const outcome = await fleet.execute('region', request.params.id, { type: 'RetireRegion', data: { regionId: request.params.id } }, commandContext(request));
      return { ...recorded(outcome), region: regionView(outcome.state as Region) };
    });

    app.post('/v1/clusters', {
      onRequest: operator,
      schema: {
        tags: ['clusters'],
        summary: 'A cluster joins a region',
        body: Type.Object({ id: Id, regionId: Id }, { additionalProperties: false }),
        response: { 201: ClusterAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request, reply) => {
      const outcome = await fleet.joinCluster(commandContext(request), { clusterId: request.body.id, regionId: request.body.regionId });
      return reply.code(201).send({ ...recorded(outcome), cluster: clusterView(outcome.state as Cluster) });
    });

    app.post('/v1/clusters/:id/leave', {
      onRequest: operator,
      schema: { tags: ['clusters'], summary: 'A cluster leaves its region', params: IdParams, response: { 200: ClusterAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) } },
    }, async (request) => {
      const outcome = await fleet.execute('cluster', request.params.id, { type: 'LeaveCluster', data: { clusterId: request.params.id } }, commandContext(request));
      return { ...recorded(outcome), cluster: clusterView(outcome.state as Cluster) };
    });

    app.post('/v1/clusters/:id/health', {
      onRequest: operator,
      schema: {
        tags: ['clusters'],
        summary: 'Report a cluster health check',
        params: IdParams,
        body: Type.Object({ healthy: Type.Boolean(), detail: Type.Optional(Text(1000)) }, { additionalProperties: false }),
        response: { 200: ClusterAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      const outcome = await fleet.execute('cluster', request.params.id, {
        type: 'ReportClusterHealth',
        data: { clusterId: request.params.id, healthy: request.body.healthy, detail: request.body.detail ?? null },
      }, commandContext(request));
      return { ...recorded(outcome), cluster: clusterView(outcome.state as Cluster) };
    });

    app.get('/v1/clusters/:id', {
      onRequest: operator,
      schema: { tags: ['clusters'], summary: 'A cluster, folded from its stream', params: IdParams, response: { 200: Type.Object({ cluster: ClusterView, revision: Type.Integer() }), ...errorResponses(400, 401, 403, 404, 503) } },
    }, async (request) => {
      const { state, revision } = await fleet.read('cluster', request.params.id);
      return { cluster: clusterView(exists(state as Cluster | null, 'cluster', request.params.id)), revision };
    });

    app.post('/v1/nodes', {
      onRequest: operator,
      schema: {
        tags: ['nodes'],
        summary: 'Register a node',
        body: Type.Object(
          {
            id: Id,
            regionId: Id,
            clusterId: Type.Optional(Id),
            vcpus: Capacity.properties.vcpus,
            memoryMiB: Capacity.properties.memoryMiB,
            diskGiB: Capacity.properties.diskGiB,
            overcommit: Type.Optional(Overcommit),
            labels: Type.Optional(Labels),
          },
          { additionalProperties: false },
        ),
        response: { 201: NodeAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request, reply) => {
      const b = request.body;
      const outcome = await fleet.registerNode(commandContext(request), {
        nodeId: b.id,
        regionId: b.regionId,
        clusterId: b.clusterId ?? null,
        capacity: { vcpus: b.vcpus, memoryMiB: b.memoryMiB, diskGiB: b.diskGiB },
        ...(b.overcommit === undefined ? {} : { overcommitRatio: b.overcommit }),
        labels: b.labels ?? {},
      });
      return reply.code(201).send({ ...recorded(outcome), node: nodeView(outcome.state as Node) });
    });

    app.put('/v1/nodes/:id/capacity', {
      onRequest: operator,
      schema: {
        tags: ['nodes'],
        summary: "Change a node's capacity (never below what is allocated)",
        params: IdParams,
        body: Type.Object({ ...Capacity.properties, overcommit: Type.Optional(Overcommit) }, { additionalProperties: false }),
        response: { 200: NodeAnswer, ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    }, async (request) => {
      const { overcommit, ...capacity } = request.body;
      const outcome = await fleet.execute('node', request.params.id, {
        type: 'ChangeNodeCapacity',
        data: { nodeId: request.params.id, capacity, ...(overcommit === undefined ? {} : { overcommitRatio: overcommit }) },
      }, commandContext(request));
      return { ...recorded(outcome), node: nodeView(outcome.state as Node) };
    });

    const NodeAction = Type.Union([Type.Literal('cordon'), Type.Literal('uncordon'), Type.Literal('drain'), Type.Literal('fail'), Type.Literal('decommission')]);
    app.post('/v1/nodes/:id/:action', {
      onRequest: operator,
      preValidation: optionalBody,
      schema: {
        tags: ['nodes'],
        summary: 'cordon | uncordon | drain (cordon and migrate every VM away) | fail (its VMs fail) | decommission (only when empty)',
        params: Type.Object({ id: Id, action: NodeAction }, { additionalProperties: false }),
        body: Type.Optional(Reason),
        response: {
          200: Type.Object({
            ...NodeAnswer.properties,
            vmIds: Type.Optional(Type.Array(Type.String(), { description: 'VMs drained or failed with the node.' })),
            failedMigrations: Type.Optional(Type.Array(Type.Object({ vmId: Type.String(), code: Type.String() }))),
          }),
          ...errorResponses(400, 401, 403, 404, 409, 422, 503),
        },
      },
    }, async (request) => {
      const { id, action } = request.params;
      const context = commandContext(request);
      const reason = request.body?.reason ?? null;
      switch (action) {
        case 'cordon': {
          const o = await fleet.execute('node', id, { type: 'CordonNode', data: { nodeId: id, reason } }, context);
          return { ...recorded(o), node: nodeView(o.state as Node) };
        }
        case 'uncordon': {
          const o = await fleet.execute('node', id, { type: 'UncordonNode', data: { nodeId: id } }, context);
          return { ...recorded(o), node: nodeView(o.state as Node) };
        }
        case 'decommission': {
          const o = await fleet.execute('node', id, { type: 'DecommissionNode', data: { nodeId: id } }, context);
          return { ...recorded(o), node: nodeView(o.state as Node) };
        }
        case 'drain': {
          const o = await fleet.drainNode(context, id, reason);
          const { state } = await fleet.read('node', id);
          return { ...recorded(o), node: nodeView(state as Node), vmIds: o.vmIds, failedMigrations: o.failedMigrations };
        }
        case 'fail': {
          const o = await fleet.failNode(context, id, reason ?? 'reported failed by an operator');
          return { ...recorded(o), node: nodeView(o.state as Node), vmIds: o.vmIds };
        }
        default: {
          const never: never = action;
          throw new NovaCronError('NC_VALIDATION', `unknown node action ${String(never)}`, { details: { field: 'action' } });
        }
      }
    });
  };
