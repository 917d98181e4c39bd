import { describe, it } from 'vitest';
import type { VmMigrationKind, VmSize } from '../../schemas/generated/events.ts';
import { DeciderSpecification } from '../testing/specification.ts';
import type { CreateVm, VmCommand } from './commands.ts';
import { vmDecider } from './decider.ts';
import type { VmEvent } from './state.ts';

const spec = DeciderSpecification.for(vmDecider);
const metadata = { now: '2025-01-01T00:00:00Z' };
const vmId = 'vm1';
const nodeId = 'n1';
const size: VmSize = { vcpus: 2, memoryMiB: 2048, diskGiB: 20 };
const vmSpec = { ...size, image: 'ubuntu-24.04' };

const command = {
  create: (data: Partial<CreateVm['data']> = {}): VmCommand => ({
    type: 'CreateVm',
    data: { vmId, tenantId: 't1', name: 'web-1', spec: vmSpec, regionId: 'eu-west', nodeId, quotaReservationId: 'q1', capacityReservationId: 'c1', ...data },
    metadata,
  }),
  start: (): VmCommand => ({ type: 'StartVm', data: { vmId }, metadata }),
  stop: (reason?: string): VmCommand => ({ type: 'StopVm', data: { vmId, reason }, metadata }),
  restart: (): VmCommand => ({ type: 'RestartVm', data: { vmId }, metadata }),
  pause: (): VmCommand => ({ type: 'PauseVm', data: { vmId }, metadata }),
  resume: (): VmCommand => ({ type: 'ResumeVm', data: { vmId }, metadata }),
  resize: (to: VmSize = { vcpus: 4, memoryMiB: 4096, diskGiB: 40 }): VmCommand => ({ type: 'ResizeVm', data: { vmId, size: to }, metadata }),
  migrate: (kind: VmMigrationKind, targetNodeId = 'n2'): VmCommand => ({
    type: 'MigrateVm',
    data: { vmId, migrationId: 'm1', kind, targetNodeId, targetRegionId: 'eu-central', capacityReservationId: 'c2' },
    metadata,
  }),
  completeMigration: (migrationId = 'm1'): VmCommand => ({ type: 'CompleteVmMigration', data: { vmId, migrationId }, metadata }),
  failMigration: (migrationId = 'm1'): VmCommand => ({ type: 'FailVmMigration', data: { vmId, migrationId, reason: 'link down' }, metadata }),
  snapshot: (): VmCommand => ({ type: 'SnapshotVm', data: { vmId, snapshotId: 's1', name: 'before upgrade' }, metadata }),
  delete: (): VmCommand => ({ type: 'DeleteVm', data: { vmId }, metadata }),
  fail: (): VmCommand => ({ type: 'FailVm', data: { vmId, reason: 'kernel panic' }, metadata }),
};

const event = {
  created: {
    type: 'VmCreated',
    data: {
      vmId,
      tenantId: 't1',
      name: 'web-1',
      spec: vmSpec,
      regionId: 'eu-west',
      clusterId: null,
      nodeId,
      quotaReservationId: 'q1',
      capacityReservationId: 'c1',
      sshPublicKeys: [],
      userData: null,
      labels: {},
    },
  },
  started: (on = nodeId): VmEvent => ({ type: 'VmStarted', data: { vmId, nodeId: on } }),
  stopped: (reason: string | null = null, on = nodeId): VmEvent => ({ type: 'VmStopped', data: { vmId, nodeId: on, reason } }),
  restarted: { type: 'VmRestarted', data: { vmId, nodeId } },
  paused: { type: 'VmPaused', data: { vmId } },
  resumed: { type: 'VmResumed', data: { vmId } },
  resized: (from: VmSize, to: VmSize): VmEvent => ({ type: 'VmResized', data: { vmId, from, to, quotaReservationId: null, capacityReservationId: null } }),
  migrationStarted: (kind: VmMigrationKind, sourceNodeId = nodeId, targetNodeId = 'n2'): VmEvent => ({
    type: 'VmMigrationStarted',
    data: { vmId, migrationId: 'm1', kind, sourceNodeId, targetNodeId, targetRegionId: 'eu-central', capacityReservationId: 'c2' },
  }),
  migrationCompleted: { type: 'VmMigrationCompleted', data: { vmId, migrationId: 'm1', sourceNodeId: nodeId, targetNodeId: 'n2' } },
  migrationFailed: { type: 'VmMigrationFailed', data: { vmId, migrationId: 'm1', sourceNodeId: nodeId, targetNodeId: 'n2', reason: 'link down' } },
  snapshotTaken: { type: 'VmSnapshotTaken', data: { vmId, snapshotId: 's1', name: 'before upgrade' } },
  deleted: (on = nodeId): VmEvent => ({ type: 'VmDeleted', data: { vmId, tenantId: 't1', nodeId: on } }),
  failed: (on = nodeId): VmEvent => ({ type: 'VmFailed', data: { vmId, nodeId: on, reason: 'kernel panic' } }),
} satisfies Record<string, VmEvent | ((...args: never[]) => VmEvent)>;

const stoppedVm: VmEvent[] = [event.created];
const runningVm: VmEvent[] = [event.created, event.started()];
const pausedVm: VmEvent[] = [...runningVm, event.paused];
const failedVm: VmEvent[] = [...runningVm, event.failed()];
const deletedVm: VmEvent[] = [event.created, event.deleted()];

/** Each command on an existing VM once, MigrateVm as a live migration. */
const operations: VmCommand[] = [
  command.start(),
  command.stop(),
  command.restart(),
  command.pause(),
  command.resume(),
  command.resize(),
  command.migrate('live'),
  command.completeMigration(),
  command.failMigration(),
  command.snapshot(),
  command.delete(),
  command.fail(),
];
const operationsBut = (...types: VmCommand['type'][]) => operations.filter((c) => !types.includes(c.type));

/** Rejects each command as not allowed in `state`. */
function rejectsIn(state: string, given: VmEvent[], commands: VmCommand[]) {
  it.each(commands)(`rejects $type (${state})`, (c) => spec.given(given).when(c).thenThrows('NC_INVALID_STATE', { entity: 'vm', id: vmId, state }));
}

describe('vm decider', () => {
  describe('when the VM does not exist', () => {
    it('creates it stopped', () => spec.given([]).when(command.create()).then([event.created]));

    it('creates and starts it', () => spec.given([]).when(command.create({ start: true })).then([event.created, event.started()]));

    it('keeps the optional fields', () => {
      const extra = { clusterId: 'c-eu-1', sshPublicKeys: ['ssh-ed25519 AAAA me'], userData: '#cloud-config', labels: { app: 'web' } };
      spec.given([]).when(command.create(extra)).then([{ ...event.created, data: { ...event.created.data, ...extra } }]);
    });

    it.each([
      ['spec.vcpus', { spec: { ...vmSpec, vcpus: 0 } }],
      ['spec.vcpus', { spec: { ...vmSpec, vcpus: 129 } }],
      ['spec.memoryMiB', { spec: { ...vmSpec, memoryMiB: 511 } }],
      ['spec.memoryMiB', { spec: { ...vmSpec, memoryMiB: 1_048_577 } }],
      ['spec.diskGiB', { spec: { ...vmSpec, diskGiB: 10_241 } }],
      ['spec.diskGiB', { spec: { ...vmSpec, diskGiB: 2.5 } }],
      ['spec.image', { spec: { ...vmSpec, image: '' } }],
      ['nodeId', { nodeId: 'a/b' }],
      ['quotaReservationId', { quotaReservationId: '' }],
      ['start', { start: 'yes' as unknown as boolean }],
    ])('rejects an invalid %s', (field, data) => spec.given([]).when(command.create(data)).thenThrows('NC_VALIDATION', { field }));

    it('accepts the largest VM', () => {
      const largest = { vcpus: 128, memoryMiB: 1_048_576, diskGiB: 10_240, image: 'ubuntu-24.04' };
      spec.given([]).when(command.create({ spec: largest })).then([{ ...event.created, data: { ...event.created.data, spec: largest } }]);
    });

    it.each(operations)('rejects $type as not found', (c) => spec.given([]).when(c).thenThrows('NC_NOT_FOUND', { entity: 'vm', id: vmId }));
  });

  describe('when the VM is stopped', () => {
    it('refuses to create it again', () => spec.given(stoppedVm).when(command.create()).thenThrows('NC_ALREADY_EXISTS', { entity: 'vm', id: vmId }));
    it('starts it', () => spec.given(stoppedVm).when(command.start()).then([event.started()]));

    describe('ResizeVm', () => {
      it('resizes it', () =>
        spec.given(stoppedVm).when(command.resize()).then([event.resized(size, { vcpus: 4, memoryMiB: 4096, diskGiB: 40 })]));
      it('shrinks CPU and memory', () => {
        const smaller = { vcpus: 1, memoryMiB: 512, diskGiB: 20 };
        spec.given(stoppedVm).when(command.resize(smaller)).then([event.resized(size, smaller)]);
      });
      it('never shrinks the disk', () =>
        spec.given(stoppedVm).when(command.resize({ ...size, diskGiB: 19 })).thenThrows('NC_VALIDATION', { field: 'size.diskGiB', min: 20 }));
      it('does nothing for the same size', () => spec.given(stoppedVm).when(command.resize(size)).then([]));
      it('resizes from the size of the last resize', () => {
        const mid = { vcpus: 4, memoryMiB: 4096, diskGiB: 40 };
        spec
          .given([...stoppedVm, event.resized(size, mid)])
          .when(command.resize({ ...mid, vcpus: 8 }))
          .then([event.resized(mid, { ...mid, vcpus: 8 })]);
      });
      it('rejects a size out of range', () =>
        spec.given(stoppedVm).when(command.resize({ ...size, memoryMiB: 256 })).thenThrows('NC_VALIDATION', { field: 'size.memoryMiB', min: 512 }));
    });

    it('starts a cold migration', () => spec.given(stoppedVm).when(command.migrate('cold')).then([event.migrationStarted('cold')]));
    it.each(['live', 'warm'] as const)('refuses a %s migration', (kind) =>
      spec.given(stoppedVm).when(command.migrate(kind)).thenThrows('NC_INVALID_STATE', { state: 'stopped', allowed: ['running'] }));
    it('refuses to migrate to the node it is on', () =>
      spec.given(stoppedVm).when(command.migrate('cold', nodeId)).thenThrows('NC_VALIDATION', { field: 'targetNodeId' }));
    it('takes a snapshot', () => spec.given(stoppedVm).when(command.snapshot()).then([event.snapshotTaken]));
    it('deletes it', () => spec.given(stoppedVm).when(command.delete()).then([event.deleted()]));
    it('fails it', () => spec.given(stoppedVm).when(command.fail()).then([event.failed()]));
    rejectsIn('stopped', stoppedVm, [command.stop(), command.restart(), command.pause(), command.resume(), command.completeMigration(), command.failMigration()]);
  });

  describe('when the VM is running', () => {
    it('refuses to create it again', () => spec.given(runningVm).when(command.create()).thenThrows('NC_ALREADY_EXISTS'));
    it('stops it', () => spec.given(runningVm).when(command.stop()).then([event.stopped()]));
    it('stops it with a reason', () => spec.given(runningVm).when(command.stop('maintenance')).then([event.stopped('maintenance')]));
    it('restarts it', () => spec.given(runningVm).when(command.restart()).then([event.restarted]));
    it('pauses it', () => spec.given(runningVm).when(command.pause()).then([event.paused]));
    it('refuses to resize it', () =>
      spec.given(runningVm).when(command.resize()).thenThrows('NC_INVALID_STATE', { state: 'running', allowed: ['stopped'] }));
    it.each(['live', 'warm'] as const)('starts a %s migration', (kind) =>
      spec.given(runningVm).when(command.migrate(kind)).then([event.migrationStarted(kind)]));
    it('refuses a cold migration', () =>
      spec.given(runningVm).when(command.migrate('cold')).thenThrows('NC_INVALID_STATE', { state: 'running', allowed: ['stopped'] }));
    it('rejects an unknown migration kind', () =>
      spec.given(runningVm).when(command.migrate('hot' as VmMigrationKind)).thenThrows('NC_VALIDATION', { field: 'kind' }));
    it('takes a snapshot', () => spec.given(runningVm).when(command.snapshot()).then([event.snapshotTaken]));
    it('stops, then deletes it', () => spec.given(runningVm).when(command.delete()).then([event.stopped('deleted'), event.deleted()]));
    it('fails it', () => spec.given(runningVm).when(command.fail()).then([event.failed()]));
    it('runs again after a restart', () => spec.given([...runningVm, event.restarted]).when(command.pause()).then([event.paused]));
    rejectsIn('running', runningVm, [command.start(), command.resume(), command.completeMigration(), command.failMigration()]);
  });

  describe('when the VM is paused', () => {
    it('refuses to create it again', () => spec.given(pausedVm).when(command.create()).thenThrows('NC_ALREADY_EXISTS'));
    it('stops it', () => spec.given(pausedVm).when(command.stop()).then([event.stopped()]));
    it('resumes it', () => spec.given(pausedVm).when(command.resume()).then([event.resumed]));
    it('runs again once resumed', () => spec.given([...pausedVm, event.resumed]).when(command.pause()).then([event.paused]));
    it('takes a snapshot', () => spec.given(pausedVm).when(command.snapshot()).then([event.snapshotTaken]));
    it('stops, then deletes it', () => spec.given(pausedVm).when(command.delete()).then([event.stopped('deleted'), event.deleted()]));
    it('fails it', () => spec.given(pausedVm).when(command.fail()).then([event.failed()]));
    rejectsIn('paused', pausedVm, [
      command.start(),
      command.restart(),
      command.pause(),
      command.resize(),
      command.migrate('live'),
      command.migrate('warm'),
      command.migrate('cold'),
      command.completeMigration(),
      command.failMigration(),
    ]);
  });

  describe('when the VM is migrating', () => {
    const live = [...runningVm, event.migrationStarted('live')];
    const cold = [...stoppedVm, event.migrationStarted('cold')];

    it('refuses to create it again', () => spec.given(live).when(command.create()).thenThrows('NC_ALREADY_EXISTS'));
    it('completes the migration', () => spec.given(live).when(command.completeMigration()).then([event.migrationCompleted]));
    it('fails the migration', () => spec.given(live).when(command.failMigration()).then([event.migrationFailed]));
    it.each([command.completeMigration('m9'), command.failMigration('m9')])('refuses $type for another migration', (c) =>
      spec.given(live).when(c).thenThrows('NC_INVALID_STATE', { state: 'migrating', migrationId: 'm1' }));
    it('fails the VM (the migration ends with it)', () => spec.given(live).when(command.fail()).then([event.failed()]));
    rejectsIn('migrating', live, operationsBut('CompleteVmMigration', 'FailVmMigration', 'FailVm'));

    describe('after a live migration completed', () => {
      const moved = [...live, event.migrationCompleted];
      it('runs on the target node', () => spec.given(moved).when(command.stop()).then([event.stopped(null, 'n2')]));
      it('can migrate back to the source node', () =>
        spec
          .given(moved)
          .when(command.migrate('live', nodeId))
          .then([event.migrationStarted('live', 'n2', nodeId)]));
      it('refuses to complete it twice', () => spec.given(moved).when(command.completeMigration()).thenThrows('NC_INVALID_STATE', { state: 'running' }));
    });

    describe('after a live migration failed', () => {
      const stayed = [...live, event.migrationFailed];
      it('runs on the source node', () => spec.given(stayed).when(command.restart()).then([event.restarted]));
    });

    describe('after a cold migration', () => {
      it('is stopped on the target node', () => spec.given([...cold, event.migrationCompleted]).when(command.start()).then([event.started('n2')]));
      it('is stopped on the source node when it failed', () => spec.given([...cold, event.migrationFailed]).when(command.start()).then([event.started()]));
    });
  });

  describe('when the VM has failed', () => {
    it('refuses to create it again', () => spec.given(failedVm).when(command.create()).thenThrows('NC_ALREADY_EXISTS'));
    it('deletes it', () => spec.given(failedVm).when(command.delete()).then([event.deleted()]));
    it('does nothing when it fails again', () => spec.given(failedVm).when(command.fail()).then([]));
    rejectsIn('failed', failedVm, [...operationsBut('DeleteVm', 'FailVm'), command.migrate('cold')]);
  });

  describe('when the VM is deleted', () => {
    it('refuses to create it again', () => spec.given(deletedVm).when(command.create()).thenThrows('NC_ALREADY_EXISTS', { entity: 'vm', id: vmId }));
    rejectsIn('deleted', deletedVm, [...operations, command.migrate('cold')]);
  });
});
