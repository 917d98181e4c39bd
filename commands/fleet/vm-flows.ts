/**
 * Flows that touch several aggregates. Each append is atomic on one stream
 * only, so each flow is a saga: every step is an event, a failure before the
 * VM records its part appends the compensating releases, and the sweeper
 * (sweeper.ts) settles whatever a crash leaves half-done.
 */
import type { VmSize, VmSpec } from '../../schemas/generated/events.ts';
import { isNovaCronError, NovaCronError } from '../../streams/errors/index.ts';
import type { CommandContext } from '../handling/context.ts';
import type { CommandOutcome } from '../handling/handle-command.ts';
import { candidatesInOrder, type PlacementPolicy } from '../placement/policy.ts';
import type { FleetDirectory } from '../placement/directory.ts';
import { invalidState, notFound } from '../shared/errors.ts';
import type { Vm, VmLifecycle } from '../vm/state.ts';
import { aggregates, streamOf } from './aggregates.ts';
import { meta, type FleetHooks, type Runner } from './runner.ts';

export interface VmFlowDeps {
  runner: Runner;
  directory: FleetDirectory;
  hooks: FleetHooks;
  newId: () => string;
  /** How long a reservation may wait for its VM before the sweeper settles it. */
  reservationTimeoutMs: number;
}

export interface CreateVmInput {
  tenantId: string;
  name: string;
  spec: VmSpec;
  regionId?: string | null;
  placement?: PlacementPolicy;
  start?: boolean;
  sshPublicKeys?: string[];
  userData?: string | null;
  labels?: Record<string, string>;
}

export interface VmResult {
  vm: Vm;
  streamId: string;
  revision: number;
  position: number;
}

/** Most times a creation refused while others held what they might give back tries again. */
const MAX_CONTENDED_ATTEMPTS = 16;

/** Errors that mean "this node can't take it": try the next candidate. */
const NEXT_CANDIDATE = new Set(['NC_CAPACITY_EXHAUSTED', 'NC_INVALID_STATE', 'NC_NOT_FOUND']);

export function createVmFlows({ runner, directory, hooks, newId, reservationTimeoutMs }: VmFlowDeps) {
  /** The context of a saga's next step: caused by the last event the previous step recorded. */
  const causedBy = (context: CommandContext, outcome: { eventIds: readonly string[] } | null): CommandContext => {
    const last = outcome?.eventIds.at(-1);
    return last === undefined ? context : { ...context, causationId: last };
  };
  const expiry = (context: CommandContext) => new Date(context.now.getTime() + reservationTimeoutMs).toISOString();

  // Creations between reserving their quota and capacity and knowing both are kept: a refusal
  // for want of quota or room waits for these before it is final (see create).
  const tentative = new Set<Promise<void>>();
  async function compensate(step: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      hooks.compensated?.(step);
    } catch {
      // The sweeper releases what is left once the reservation expires.
    }
  }

  /** Drops a pending quota reservation after a later step failed. */
  const releaseQuotaReservation = (context: CommandContext, tenantId: string, reservationId: string) =>
    compensate('quota', () =>
      runner.run(aggregates.tenant, streamOf.tenant(tenantId), {
        type: 'ReleaseQuota',
        data: { tenantId, reason: 'compensated', reservationId },
        metadata: meta(context),
      }, context),
    );

  /** Drops a pending capacity reservation after a later step failed. */
  const releaseCapacityReservation = (context: CommandContext, nodeId: string, reservationId: string) =>
    compensate('capacity', () =>
      runner.run(aggregates.node, streamOf.node(nodeId), {
        type: 'ReleaseCapacity',
        data: { nodeId, reason: 'compensated', reservationId },
        metadata: meta(context),
      }, context),
    );

  /** The VM recorded its part: both reservations become its usage. A failed commit is settled by the sweeper. */
  const commitReservations = (
    context: CommandContext,
    { tenantId, nodeId }: { tenantId: string; nodeId: string },
    { quotaReservationId, capacityReservationId }: { quotaReservationId: string; capacityReservationId: string },
  ) =>
    Promise.allSettled([
      runner.run(aggregates.tenant, streamOf.tenant(tenantId), {
        type: 'CommitQuota',
        data: { tenantId, reservationId: quotaReservationId },
        metadata: meta(context),
      }, context),
      runner.run(aggregates.node, streamOf.node(nodeId), {
        type: 'CommitCapacity',
        data: { nodeId, reservationId: capacityReservationId },
        metadata: meta(context),
      }, context),
    ]);

  /** Gives back what a VM holds on its tenant and its node: all of it (deleted), or what it holds beyond `size` (resized). */
  const giveBack = (
    context: CommandContext,
    { vmId, tenantId, nodeId }: Pick<Vm, 'vmId' | 'tenantId' | 'nodeId'>,
    release: { reason: 'vm_deleted' } | { reason: 'vm_resized'; size: VmSize },
  ) =>
    Promise.allSettled([
      runner.run(aggregates.tenant, streamOf.tenant(tenantId), { type: 'ReleaseQuota', data: { tenantId, vmId, ...release }, metadata: meta(context) }, context),
      runner.run(aggregates.node, streamOf.node(nodeId), { type: 'ReleaseCapacity', data: { nodeId, vmId, ...release }, metadata: meta(context) }, context),
    ]);

  async function requireVm(vmId: string): Promise<{ vm: Vm; revision: number }> {
    const { state, revision } = await runner.read(aggregates.vm, streamOf.vm(vmId));
    if (state === null) throw notFound('vm', vmId);
    return { vm: state, revision };
  }

  /** Reserves capacity on the best node that has room; null when none does. */
  async function reserveOnSomeNode(
    context: CommandContext,
    query: { regionIds: readonly string[]; policy: PlacementPolicy; exclude?: readonly string[] },
    vmId: string,
    spec: { vcpus: number; memoryMiB: number; diskGiB: number },
    reservationId: string,
  ) {
    await directory.refresh();
    const resources = { vcpus: spec.vcpus, memoryMiB: spec.memoryMiB, diskGiB: spec.diskGiB };
    const placed = await tryCandidates(context, query, vmId, resources, reservationId);
    if (placed !== null) return placed;
    // None of the nodes known took it: look again with the whole log applied (a node another process just registered).
    await directory.refresh({ full: true });
    return tryCandidates(context, query, vmId, resources, reservationId);
  }

  async function tryCandidates(
    context: CommandContext,
    query: { regionIds: readonly string[]; policy: PlacementPolicy; exclude?: readonly string[] },
    vmId: string,
    resources: { vcpus: number; memoryMiB: number; diskGiB: number },
    reservationId: string,
  ) {
    for (const node of candidatesInOrder(directory, { ...query, resources })) {
      try {
        const reserved = await runner.run(aggregates.node, streamOf.node(node.nodeId), {
          type: 'ReserveCapacity',
          data: { nodeId: node.nodeId, reservationId, vmId, resources, expiresAt: expiry(context) },
          metadata: meta(context),
        }, context);
        return { ...node, reservedBy: reserved.eventIds };
      } catch (error) {
        if (isNovaCronError(error) && NEXT_CANDIDATE.has(error.code)) continue;
        throw error;
      }
    }
    return null;
  }

  const noRoom = (regionIds: readonly string[], spec: object) =>
    new NovaCronError('NC_CAPACITY_EXHAUSTED', `no node in ${regionIds.join(', ') || 'any allowed region'} has room for the VM`, {
      details: { regions: [...regionIds], requested: spec },
    });

  /** No node to migrate to: none other than the source exists in the regions (not in service), or none of them has room. */
  const noMigrationTarget = (regionIds: readonly string[], sourceNodeId: string, spec: object) => {
    const regions = new Set(regionIds);
    const otherNodes = directory.nodes().filter((n) => n.nodeId !== sourceNodeId && regions.has(n.regionId) && n.status !== 'decommissioned').length;
    const where = regionIds.join(', ') || 'any allowed region';
    const message = otherNodes === 0
      ? `no node other than ${sourceNodeId} (the VM's own) exists in ${where} to migrate the VM to`
      : `no node in ${where} other than the VM's own has room for the VM`;
    return new NovaCronError('NC_CAPACITY_EXHAUSTED', message, {
      details: { regions: [...regionIds], requested: spec, sourceNodeId, otherNodes },
    });
  };

  return {
    /** The reservation saga: quota on the tenant → capacity on a node → the VM → commit both. */
    async create(context: CommandContext, input: CreateVmInput): Promise<VmResult> {
      const vmId = newId();
      const tenantStream = streamOf.tenant(input.tenantId);
      const tenant = await runner.read(aggregates.tenant, tenantStream);
      if (tenant.state === null || tenant.state.status === 'deleted') throw notFound('tenant', input.tenantId);
      if (input.regionId) {
        await directory.refresh();
        let region = directory.region(input.regionId);
        if (!region) {
          await directory.refresh({ full: true });
          region = directory.region(input.regionId);
        }
        if (!region) throw notFound('region', input.regionId);
        if (region.retired) {
          throw new NovaCronError('NC_REGION_RETIRED', `region ${input.regionId} is retired and takes no placements`, {
            details: { regionId: input.regionId },
          });
        }
      }
      const regionIds = input.regionId ? [input.regionId] : tenant.state.allowedRegions;
      const { vcpus, memoryMiB, diskGiB } = input.spec;
      const quotaReservationId = newId();
      const capacityReservationId = newId();
      const reserveQuota = {
        type: 'ReserveQuota' as const,
        data: {
          tenantId: input.tenantId,
          reservationId: quotaReservationId,
          vmId,
          resources: { vms: 1, vcpus, memoryMiB, diskGiB },
          expiresAt: expiry(context),
          regionId: input.regionId ?? null,
        },
        metadata: meta(context),
      };
      // Decided first on the state just read, recording nothing: a tenant suspended or out of
      // quota is refused before any capacity is reserved for it (refused input changes nothing).
      aggregates.tenant.decider.decide(reserveQuota, tenant.state);
      // Quota on the tenant and capacity on a node do not depend on each other: both are
      // reserved at once (two streams, so one group commit for both), and each is undone if
      // the other fails. Either counts against quota or capacity from the moment it is recorded.
      let quota: CommandOutcome<unknown>;
      let placed: NonNullable<Awaited<ReturnType<typeof reserveOnSomeNode>>>;
      for (let attempt = 0; ; attempt++) {
        let decided = (): void => undefined;
        const mine = new Promise<void>((resolve) => (decided = resolve));
        const others = [...tentative];
        tentative.add(mine);
        let refusal: unknown;
        try {
          const [q, c] = await Promise.allSettled([
            runner.run(aggregates.tenant, tenantStream, reserveQuota, context),
            reserveOnSomeNode(context, { regionIds, policy: input.placement ?? 'balanced' }, vmId, input.spec, capacityReservationId),
          ]);
          const node = c.status === 'fulfilled' ? c.value : null;
          if (q.status === 'fulfilled' && node !== null) {
            quota = q.value;
            placed = node;
            break;
          }
          // Undo whichever half was recorded; the refusal of the quota comes first (the tenant's own limit).
          if (node !== null) await releaseCapacityReservation(causedBy(context, { eventIds: node.reservedBy }), node.nodeId, capacityReservationId);
          if (q.status === 'fulfilled') await releaseQuotaReservation(causedBy(context, q.value), input.tenantId, quotaReservationId);
          refusal = q.status === 'rejected' ? q.reason : c.status === 'rejected' ? c.reason : noRoom(regionIds, { vcpus, memoryMiB, diskGiB });
        } finally {
          tentative.delete(mine);
          decided();
        }
        // A refusal for want of quota or room while other creations held a half they may give
        // back (the other half refused): once those are decided, try again, so what they give
        // back is not refused to this one. Exact counts under contention; see the over-commit tests.
        const contended = isNovaCronError(refusal) && (refusal.code === 'NC_QUOTA_EXCEEDED' || refusal.code === 'NC_CAPACITY_EXHAUSTED');
        if (!contended || others.length === 0 || attempt >= MAX_CONTENDED_ATTEMPTS) throw refusal;
        await Promise.all(others);
      }
      const node = placed;
      const releaseQuota = () => releaseQuotaReservation(causedBy(context, quota), input.tenantId, quotaReservationId);

      // The VM names the capacity reservation (the step that chose its node) as its cause.
      const afterCapacity = causedBy(context, { eventIds: node.reservedBy });
      let created;
      try {
        created = await runner.run(aggregates.vm, streamOf.vm(vmId), {
          type: 'CreateVm',
          data: {
            vmId,
            tenantId: input.tenantId,
            name: input.name,
            spec: input.spec,
            regionId: node.regionId,
            clusterId: node.clusterId,
            nodeId: node.nodeId,
            quotaReservationId,
            capacityReservationId,
            sshPublicKeys: input.sshPublicKeys ?? [],
            userData: input.userData ?? null,
            labels: input.labels ?? {},
            start: input.start ?? false,
          },
          metadata: meta(afterCapacity),
        }, afterCapacity, input.tenantId);
      } catch (error) {
        await releaseCapacityReservation(afterCapacity, node.nodeId, capacityReservationId);
        await releaseQuota();
        if (isNovaCronError(error, 'NC_STREAM_DELETED')) {
          // The sweeper fenced this VM id: the saga took longer than the reservation timeout.
          throw new NovaCronError('NC_SAGA_EXPIRED', 'the VM creation took longer than its reservations last; try again', {
            retriable: true,
            cause: error,
          });
        }
        throw error;
      }
      // The VM is recorded: from here nothing is undone. A failed commit is settled by the sweeper.
      await commitReservations(causedBy(afterCapacity, created), { tenantId: input.tenantId, nodeId: node.nodeId }, { quotaReservationId, capacityReservationId });
      return { vm: created.state as Vm, streamId: created.streamId, revision: created.revision, position: created.position };
    },

    /**
     * Resize (only when stopped): reserve what grows on the tenant and the node,
     * record the new size with the reservation ids, commit, give back what shrank.
     */
    async resize(context: CommandContext, vmId: string, size: { vcpus?: number; memoryMiB?: number; diskGiB?: number }): Promise<VmResult> {
      const { vm } = await requireVm(vmId);
      const to = {
        vcpus: size.vcpus ?? vm.spec.vcpus,
        memoryMiB: size.memoryMiB ?? vm.spec.memoryMiB,
        diskGiB: size.diskGiB ?? vm.spec.diskGiB,
      };
      const grow = {
        vcpus: Math.max(0, to.vcpus - vm.spec.vcpus),
        memoryMiB: Math.max(0, to.memoryMiB - vm.spec.memoryMiB),
        diskGiB: Math.max(0, to.diskGiB - vm.spec.diskGiB),
      };
      const grows = grow.vcpus + grow.memoryMiB + grow.diskGiB > 0;
      const tenantStream = streamOf.tenant(vm.tenantId);
      const nodeStream = streamOf.node(vm.nodeId);
      const quotaReservationId = newId();
      const capacityReservationId = newId();
      if (grows && vm.state === 'stopped' && to.diskGiB >= vm.spec.diskGiB) {
        await runner.run(aggregates.tenant, tenantStream, {
          type: 'ReserveQuota',
          data: { tenantId: vm.tenantId, reservationId: quotaReservationId, vmId, resources: { vms: 0, ...grow }, expiresAt: expiry(context), regionId: null },
          metadata: meta(context),
        }, context);
        try {
          await runner.run(aggregates.node, nodeStream, {
            type: 'ReserveCapacity',
            data: { nodeId: vm.nodeId, reservationId: capacityReservationId, vmId, resources: grow, expiresAt: expiry(context) },
            metadata: meta(context),
          }, context);
        } catch (error) {
          await releaseQuotaReservation(context, vm.tenantId, quotaReservationId);
          throw error;
        }
      }
      let resized;
      try {
        resized = await runner.run(aggregates.vm, streamOf.vm(vmId), {
          type: 'ResizeVm',
          data: { vmId, size: to, quotaReservationId: grows ? quotaReservationId : null, capacityReservationId: grows ? capacityReservationId : null },
          metadata: meta(context),
        }, context, vm.tenantId);
      } catch (error) {
        if (grows) {
          await releaseCapacityReservation(context, vm.nodeId, capacityReservationId);
          await releaseQuotaReservation(context, vm.tenantId, quotaReservationId);
        }
        throw error;
      }
      if (resized.events.length > 0) {
        if (grows) await commitReservations(context, vm, { quotaReservationId, capacityReservationId });
        await giveBack(context, vm, { reason: 'vm_resized', size: to });
      }
      return { vm: resized.state as Vm, streamId: resized.streamId, revision: resized.revision, position: resized.position };
    },

    /**
     * Migration: reserve on the target, start, then (the hypervisor driver here
     * completes at once) complete; commit on the target and give the source back.
     */
    async migrate(
      context: CommandContext,
      vmId: string,
      { kind, targetNodeId, allowedRegions, policy = 'balanced' }: { kind: 'cold' | 'warm' | 'live'; targetNodeId?: string; allowedRegions: readonly string[]; policy?: PlacementPolicy },
    ): Promise<VmResult> {
      const { vm } = await requireVm(vmId);
      // Refuse before reserving on a target: a VM that cannot migrate leaves no reservation behind.
      const from: VmLifecycle[] = kind === 'cold' ? ['stopped'] : ['running'];
      if (!from.includes(vm.state)) throw invalidState({ entity: 'vm', id: vmId, command: 'MigrateVm', state: vm.state, allowed: from });
      const reservationId = newId();
      const migrationId = newId();
      let target;
      if (targetNodeId) {
        await directory.refresh({ full: true });
        const node = directory.node(targetNodeId);
        if (!node) throw notFound('node', targetNodeId);
        if (!allowedRegions.includes(node.regionId)) {
          throw new NovaCronError('NC_REGION_NOT_ALLOWED', `node ${targetNodeId} is in region ${node.regionId}, which the tenant may not use`, {
            details: { nodeId: targetNodeId, regionId: node.regionId, allowedRegions: [...allowedRegions] },
          });
        }
        if (targetNodeId === vm.nodeId) {
          throw new NovaCronError('NC_VALIDATION', 'the target node is the node the VM is on', { details: { field: 'targetNodeId' } });
        }
        await runner.run(aggregates.node, streamOf.node(targetNodeId), {
          type: 'ReserveCapacity',
          data: { nodeId: targetNodeId, reservationId, vmId, resources: { vcpus: vm.spec.vcpus, memoryMiB: vm.spec.memoryMiB, diskGiB: vm.spec.diskGiB }, expiresAt: expiry(context) },
          metadata: meta(context),
        }, context);
        target = node;
      } else {
        target = await reserveOnSomeNode(context, { regionIds: allowedRegions, policy, exclude: [vm.nodeId] }, vmId, vm.spec, reservationId);
        if (!target) throw noMigrationTarget(allowedRegions, vm.nodeId, vm.spec);
      }
      const vmStream = streamOf.vm(vmId);
      try {
        await runner.run(aggregates.vm, vmStream, {
          type: 'MigrateVm',
          data: { vmId, migrationId, kind, targetNodeId: target.nodeId, targetRegionId: target.regionId, capacityReservationId: reservationId },
          metadata: meta(context),
        }, context, vm.tenantId);
      } catch (error) {
        await releaseCapacityReservation(context, target.nodeId, reservationId);
        throw error;
      }
      const completed = await runner.run(aggregates.vm, vmStream, {
        type: 'CompleteVmMigration',
        data: { vmId, migrationId },
        metadata: meta(context),
      }, context, vm.tenantId);
      await Promise.allSettled([
        runner.run(aggregates.node, streamOf.node(target.nodeId), {
          type: 'CommitCapacity',
          data: { nodeId: target.nodeId, reservationId },
          metadata: meta(context),
        }, context),
        runner.run(aggregates.node, streamOf.node(vm.nodeId), {
          type: 'ReleaseCapacity',
          data: { nodeId: vm.nodeId, reason: 'vm_migrated', vmId },
          metadata: meta(context),
        }, context),
      ]);
      return { vm: completed.state as Vm, streamId: completed.streamId, revision: completed.revision, position: completed.position };
    },

    /** Delete (stops first if running), then give the quota and the node's capacity back. */
    async remove(context: CommandContext, vmId: string): Promise<VmResult> {
      const { vm } = await requireVm(vmId);
      const deleted = await runner.run(aggregates.vm, streamOf.vm(vmId), { type: 'DeleteVm', data: { vmId }, metadata: meta(context) }, context, vm.tenantId);
      await giveBack(context, vm, { reason: 'vm_deleted' });
      return { vm: deleted.state as Vm, streamId: deleted.streamId, revision: deleted.revision, position: deleted.position };
    },
  };
}

export type VmFlows = ReturnType<typeof createVmFlows>;
