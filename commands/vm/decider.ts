import { unknownCommand, type Decider } from '../decider.ts';
import { alreadyExists, invalidState, notFound } from '../shared/errors.ts';
import { sameAmounts } from '../shared/resources.ts';
import {
  invalid,
  optionalText,
  requireBoolean,
  requireId,
  requireLabels,
  requireOneOf,
  requireText,
  requireTextList,
} from '../shared/validation.ts';
import type { CompleteVmMigration, CreateVm, DeleteVm, FailVm, FailVmMigration, MigrateVm, ResizeVm, SnapshotVm, StopVm, VmCommand } from './commands.ts';
import { requireSize, SIZE_DIMENSIONS, VM_LIMITS } from './limits.ts';
import { evolve, initialState, type Vm, type VmEvent, type VmLifecycle, type VmState } from './state.ts';

export function decide(command: VmCommand, state: VmState): VmEvent[] {
  switch (command.type) {
    case 'CreateVm':
      return create(command, state);
    case 'StartVm': {
      const { vmId, nodeId } = vmIn(command, state, ['stopped']);
      return [{ type: 'VmStarted', data: { vmId, nodeId } }];
    }
    case 'StopVm':
      return stop(command, state);
    case 'RestartVm': {
      const { vmId, nodeId } = vmIn(command, state, ['running']);
      return [{ type: 'VmRestarted', data: { vmId, nodeId } }];
    }
    case 'PauseVm':
      return [{ type: 'VmPaused', data: { vmId: vmIn(command, state, ['running']).vmId } }];
    case 'ResumeVm':
      return [{ type: 'VmResumed', data: { vmId: vmIn(command, state, ['paused']).vmId } }];
    case 'ResizeVm':
      return resize(command, state);
    case 'MigrateVm':
      return migrate(command, state);
    case 'CompleteVmMigration':
      return completeMigration(command, state);
    case 'FailVmMigration':
      return failMigration(command, state);
    case 'SnapshotVm':
      return snapshot(command, state);
    case 'DeleteVm':
      return remove(command, state);
    case 'FailVm':
      return fail(command, state);
    default:
      return unknownCommand(command);
  }
}

export const vmDecider: Decider<VmCommand, VmEvent, VmState> = { initialState, evolve, decide };

function vmIn(command: VmCommand, state: VmState, allowed: readonly VmLifecycle[]): Vm {
  if (state === null) throw notFound('vm', command.data.vmId);
  if (!allowed.includes(state.state)) throw invalidState({ entity: 'vm', id: state.vmId, command: command.type, state: state.state, allowed });
  return state;
}

const optionalId = (field: string, value: string | null | undefined) => (value === undefined || value === null ? null : requireId(field, value));

function create({ data }: CreateVm, state: VmState): VmEvent[] {
  const vmId = requireId('vmId', data.vmId);
  const created: VmEvent = {
    type: 'VmCreated',
    data: {
      vmId,
      tenantId: requireId('tenantId', data.tenantId),
      name: requireText('name', data.name),
      spec: { ...requireSize('spec', data.spec), image: requireText('spec.image', data.spec?.image) },
      regionId: requireId('regionId', data.regionId),
      clusterId: optionalId('clusterId', data.clusterId),
      nodeId: requireId('nodeId', data.nodeId),
      quotaReservationId: requireId('quotaReservationId', data.quotaReservationId),
      capacityReservationId: requireId('capacityReservationId', data.capacityReservationId),
      sshPublicKeys: [...requireTextList('sshPublicKeys', data.sshPublicKeys ?? [], { maxItems: 100, maxLength: 16_384 })],
      userData: optionalText('userData', data.userData, { maxLength: 65_536 }),
      labels: { ...requireLabels('labels', data.labels ?? {}) },
    },
  };
  const start = requireBoolean('start', data.start ?? false);
  if (state !== null) throw alreadyExists('vm', vmId);
  return start ? [created, { type: 'VmStarted', data: { vmId, nodeId: created.data.nodeId } }] : [created];
}

function stop(command: StopVm, state: VmState): VmEvent[] {
  const reason = optionalText('reason', command.data.reason, { maxLength: 1000 });
  const { vmId, nodeId } = vmIn(command, state, ['running', 'paused']);
  return [{ type: 'VmStopped', data: { vmId, nodeId, reason } }];
}

function resize(command: ResizeVm, state: VmState): VmEvent[] {
  const to = requireSize('size', command.data.size);
  const vm = vmIn(command, state, ['stopped']);
  const from = { vcpus: vm.spec.vcpus, memoryMiB: vm.spec.memoryMiB, diskGiB: vm.spec.diskGiB };
  if (to.diskGiB < from.diskGiB) {
    throw invalid('size.diskGiB', `must not shrink: the disk has ${from.diskGiB} GiB`, { value: to.diskGiB, min: from.diskGiB, max: VM_LIMITS.diskGiB.max });
  }
  if (sameAmounts(SIZE_DIMENSIONS, from, to)) return [];
  return [
    {
      type: 'VmResized',
      data: {
        vmId: vm.vmId,
        from,
        to,
        quotaReservationId: command.data.quotaReservationId ?? null,
        capacityReservationId: command.data.capacityReservationId ?? null,
      },
    },
  ];
}

function migrate(command: MigrateVm, state: VmState): VmEvent[] {
  const { data } = command;
  const kind = requireOneOf('kind', data.kind, ['cold', 'warm', 'live'] as const);
  const migrationId = requireId('migrationId', data.migrationId);
  const targetNodeId = requireId('targetNodeId', data.targetNodeId);
  const targetRegionId = requireId('targetRegionId', data.targetRegionId);
  const capacityReservationId = requireId('capacityReservationId', data.capacityReservationId);
  const vm = vmIn(command, state, kind === 'cold' ? ['stopped'] : ['running']);
  if (targetNodeId === vm.nodeId) throw invalid('targetNodeId', `must differ from the node the VM is on (${vm.nodeId})`);
  return [
    {
      type: 'VmMigrationStarted',
      data: { vmId: vm.vmId, migrationId, kind, sourceNodeId: vm.nodeId, targetNodeId, targetRegionId, capacityReservationId },
    },
  ];
}

/** The VM must be migrating, and migrating under `migrationId`. */
function migrating(command: CompleteVmMigration | FailVmMigration, state: VmState) {
  const migrationId = requireId('migrationId', command.data.migrationId);
  const vm = vmIn(command, state, ['migrating']);
  const migration = vm.migration;
  if (migration === null || migration.migrationId !== migrationId) {
    throw invalidState(
      { entity: 'vm', id: vm.vmId, command: command.type, state: vm.state, allowed: ['migrating'], migrationId: migration?.migrationId ?? null },
      `vm ${vm.vmId} is not migrating under ${migrationId}`,
    );
  }
  return { vmId: vm.vmId, migrationId, sourceNodeId: migration.sourceNodeId, targetNodeId: migration.targetNodeId };
}

function completeMigration(command: CompleteVmMigration, state: VmState): VmEvent[] {
  return [{ type: 'VmMigrationCompleted', data: migrating(command, state) }];
}

function failMigration(command: FailVmMigration, state: VmState): VmEvent[] {
  const reason = requireText('reason', command.data.reason, { maxLength: 1000 });
  return [{ type: 'VmMigrationFailed', data: { ...migrating(command, state), reason } }];
}

function snapshot(command: SnapshotVm, state: VmState): VmEvent[] {
  const snapshotId = requireId('snapshotId', command.data.snapshotId);
  const name = requireText('name', command.data.name);
  const { vmId } = vmIn(command, state, ['running', 'stopped', 'paused']);
  return [{ type: 'VmSnapshotTaken', data: { vmId, snapshotId, name } }];
}

function remove(command: DeleteVm, state: VmState): VmEvent[] {
  const vm = vmIn(command, state, ['stopped', 'failed', 'running', 'paused']);
  const { vmId, tenantId, nodeId } = vm;
  const deleted: VmEvent = { type: 'VmDeleted', data: { vmId, tenantId, nodeId } };
  if (vm.state === 'running' || vm.state === 'paused') return [{ type: 'VmStopped', data: { vmId, nodeId, reason: 'deleted' } }, deleted];
  return [deleted];
}

function fail(command: FailVm, state: VmState): VmEvent[] {
  const reason = requireText('reason', command.data.reason, { maxLength: 1000 });
  const vm = vmIn(command, state, ['stopped', 'running', 'paused', 'migrating', 'failed']);
  if (vm.state === 'failed') return [];
  return [{ type: 'VmFailed', data: { vmId: vm.vmId, nodeId: vm.nodeId, reason } }];
}
