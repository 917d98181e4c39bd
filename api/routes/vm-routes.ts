import { Type } from 'typebox';
import type { FleetService } from '../../commands/fleet/service.ts';
import type { Vm } from '../../commands/vm/state.ts';
import { PLACEMENT_POLICIES } from '../../commands/placement/policy.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { RoutePlugin } from '../app.ts';
import type { Principal } from '../auth/principal.ts';
import { assertTenantAccess, principalOf, requireRoles } from '../auth/guards.ts';
import { errorResponses } from '../http/error-schema.ts';
import { TenantId } from '../http/params.ts';
import { commandContext } from './command-context.ts';
import { NoBody, optionalBody } from './optional-body.ts';
import { Id, IdParams, Labels, NonBlank, Recorded, recorded, VmView, vmView } from './views.ts';

const anyone = requireRoles('operator', 'tenant-admin', 'tenant-user');
const admins = requireRoles('operator', 'tenant-admin');

const Vcpus = Type.Integer({ minimum: 1, maximum: 128 });
const Memory = Type.Integer({ minimum: 512, maximum: 1_048_576, description: 'MiB' });
const Disk = Type.Integer({ minimum: 1, maximum: 10_240, description: 'GiB; never shrinks' });

const notFound = (id: string) => new NovaCronError('NC_NOT_FOUND', `vm ${id} does not exist`, { details: { entity: 'vm', id } });

/** VMs: tenants' own machines. Another tenant's VM answers 404 on every route. */
export const vmRoutes =
  (fleet: FleetService): RoutePlugin =>
  async (app) => {
    const Answer = Type.Object({ ...Recorded, ...VmView.properties });

    /** The VM if the principal may see it, else the same 404 as a VM that does not exist. */
    async function visibleVm(principal: Principal, id: string): Promise<{ vm: Vm; revision: number }> {
      const { state, revision } = await fleet.read('vm', id);
      const vm = state as Vm | null;
      if (vm === null) throw notFound(id);
      assertTenantAccess(principal, vm.tenantId, { entity: 'vm', id });
      return { vm, revision };
    }

    app.post('/v1/vms', {
      onRequest: anyone,
      schema: {
        tags: ['vms'],
        summary: 'Create a VM: reserve quota, place it on a node with room, record it',
        body: Type.Object(
          {
            name: NonBlank(),
            vcpus: Vcpus,
            memoryMiB: Memory,
            diskGiB: Disk,
            image: NonBlank(),
            regionId: Type.Optional(Id),
            placement: Type.Optional(Type.Union(PLACEMENT_POLICIES.map((p) => Type.Literal(p)), { description: 'balanced (default), consolidated or performance' })),
            tenantId: Type.Optional(TenantId),
            start: Type.Optional(Type.Boolean({ description: 'Start at once (default: the VM is created stopped).' })),
            sshPublicKeys: Type.Optional(Type.Array(NonBlank(16_384), { maxItems: 32, uniqueItems: true, description: 'Personal data: stored encrypted.' })),
            userData: Type.Optional(NonBlank(65_536, { description: 'Personal data: stored encrypted.' })),
            labels: Type.Optional(Labels),
          },
          { additionalProperties: false },
        ),
        response: { 201: Answer, ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    }, async (request, reply) => {
      const principal = principalOf(request);
      const { tenantId: asked, vcpus, memoryMiB, diskGiB, image, name, regionId, placement, start, sshPublicKeys, userData, labels } = request.body;
      let tenantId: string;
      if (principal.role === 'operator') {
        if (!asked) throw new NovaCronError('NC_VALIDATION', 'operators must say which tenant the VM is for', { details: { field: 'tenantId' } });
        tenantId = asked;
      } else {
        tenantId = principal.tenantId as string;
        if (asked !== undefined && asked !== tenantId) {
          throw new NovaCronError('NC_NOT_FOUND', `tenant ${asked} does not exist`, { details: { entity: 'tenant', id: asked } });
        }
      }
      const result = await fleet.createVm(commandContext(request), {
        tenantId,
        name,
        spec: { vcpus, memoryMiB, diskGiB, image },
        regionId: regionId ?? null,
        ...(placement ? { placement } : {}),
        start: start ?? false,
        sshPublicKeys: sshPublicKeys ?? [],
        userData: userData ?? null,
        labels: labels ?? {},
      });
      return reply.code(201).header('location', `/v1/vms/${result.vm.vmId}`).send({ ...recorded(result), ...vmView(result.vm) });
    });

    const Action = Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('restart'), Type.Literal('pause'), Type.Literal('resume')]);
    app.post('/v1/vms/:id/:action', {
      onRequest: anyone,
      schema: {
        tags: ['vms'],
        summary: 'start | stop | restart | pause | resume',
        params: Type.Object({ id: Id, action: Action }, { additionalProperties: false }),
        response: { 200: Answer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      const { id, action } = request.params;
      const principal = principalOf(request);
      // Checked on the state the command is decided on: one load of the VM, not a read first and a load again.
      const visible = (vm: Vm | null) => {
        if (vm === null) throw notFound(id);
        assertTenantAccess(principal, vm.tenantId, { entity: 'vm', id });
      };
      const context = commandContext(request);
      const outcome =
        action === 'start'
          ? await fleet.startVm(context, id, visible)
          : action === 'stop'
            ? await fleet.execute('vm', id, { type: 'StopVm', data: { vmId: id } }, context, null, visible)
            : action === 'restart'
              ? await fleet.execute('vm', id, { type: 'RestartVm', data: { vmId: id } }, context, null, visible)
              : action === 'pause'
                ? await fleet.execute('vm', id, { type: 'PauseVm', data: { vmId: id } }, context, null, visible)
                : await fleet.execute('vm', id, { type: 'ResumeVm', data: { vmId: id } }, context, null, visible);
      return { ...recorded(outcome), ...vmView(outcome.state as Vm) };
    });

    app.post('/v1/vms/:id/resize', {
      onRequest: anyone,
      schema: {
        tags: ['vms'],
        summary: 'Resize a stopped VM (the disk never shrinks)',
        params: IdParams,
        body: Type.Object({ vcpus: Type.Optional(Vcpus), memoryMiB: Type.Optional(Memory), diskGiB: Type.Optional(Disk) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: Answer, ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    }, async (request) => {
      const { vm } = await visibleVm(principalOf(request), request.params.id);
      const { diskGiB } = request.body;
      if (diskGiB !== undefined && diskGiB < vm.spec.diskGiB) {
        throw new NovaCronError('NC_VALIDATION', `diskGiB must not shrink: the disk has ${vm.spec.diskGiB} GiB`, {
          details: { field: 'diskGiB', value: diskGiB, min: vm.spec.diskGiB },
        });
      }
      const result = await fleet.vms.resize(commandContext(request), request.params.id, request.body);
      return { ...recorded(result), ...vmView(result.vm) };
    });

    app.post('/v1/vms/:id/migrate', {
      onRequest: anyone,
      schema: {
        tags: ['vms'],
        summary: 'Migrate a VM: live or warm from running, cold from stopped; to a chosen node or the best one in an allowed region',
        params: IdParams,
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('cold'), Type.Literal('warm'), Type.Literal('live')]),
            targetNodeId: Type.Optional(Id),
            placement: Type.Optional(Type.Union(PLACEMENT_POLICIES.map((p) => Type.Literal(p)))),
          },
          { additionalProperties: false },
        ),
        response: { 200: Answer, ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    }, async (request) => {
      const principal = principalOf(request);
      await visibleVm(principal, request.params.id);
      if (request.body.targetNodeId && principal.role !== 'operator') {
        throw new NovaCronError('NC_FORBIDDEN', 'only operators choose the target node; tenants get the best node placement finds', {
          details: { field: 'targetNodeId', role: principal.role },
        });
      }
      const result = await fleet.migrateVm(commandContext(request), request.params.id, {
        kind: request.body.kind,
        ...(request.body.targetNodeId ? { targetNodeId: request.body.targetNodeId } : {}),
        ...(request.body.placement ? { policy: request.body.placement } : {}),
      });
      return { ...recorded(result), ...vmView(result.vm) };
    });

    app.post('/v1/vms/:id/snapshots', {
      onRequest: anyone,
      preValidation: optionalBody,
      schema: {
        tags: ['vms'],
        summary: 'Take a snapshot',
        params: IdParams,
        body: Type.Optional(Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false })),
        response: { 201: Type.Object({ ...Answer.properties, snapshotId: Type.String() }), ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request, reply) => {
      const { vm } = await visibleVm(principalOf(request), request.params.id);
      const snapshotId = fleet.newId();
      const outcome = await fleet.execute('vm', request.params.id, {
        type: 'SnapshotVm',
        data: { vmId: vm.vmId, snapshotId, name: request.body?.name ?? `${vm.name}-${new Date().toISOString()}` },
      }, commandContext(request));
      return reply.code(201).send({ ...recorded(outcome), ...vmView(outcome.state as Vm), snapshotId });
    });

    app.delete('/v1/vms/:id', {
      onRequest: admins,
      preValidation: optionalBody,
      schema: {
        body: NoBody,
        tags: ['vms'],
        summary: 'Delete a VM (stopped first if running); its quota and capacity are given back',
        params: IdParams,
        response: { 200: Answer, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      await visibleVm(principalOf(request), request.params.id);
      const result = await fleet.vms.remove(commandContext(request), request.params.id);
      return { ...recorded(result), ...vmView(result.vm) };
    });
  };
