import { describe, expect, it } from 'vitest';
import {
  given,
  nodeRegistered,
  regionAdded,
  vmCreated,
  vmDeleted,
  vmFailed,
  vmMigrationCompleted,
  vmMigrationFailed,
  vmMigrationStarted,
  vmPaused,
  vmRestarted,
  vmResized,
  vmResumed,
  vmSnapshotTaken,
  vmStarted,
  vmStopped,
} from './testing.ts';

const fleet = [regionAdded('eu-west'), regionAdded('us-east'), nodeRegistered('n1', 'eu-west'), nodeRegistered('n2', 'eu-west'), nodeRegistered('n3', 'us-east')];

describe('inventory: a VM', () => {
  describe('that does not exist', () => {
    it('VmCreated records it stopped, with its tenant, node, region, size and when', () =>
      given(...fleet)
        .when(vmCreated('v1', { tenantId: 'acme', nodeId: 'n1', regionId: 'eu-west', clusterId: 'c1', name: 'web' }))
        .then((q, [created]) => {
          expect(q.getVm('v1')).toEqual({
            vmId: 'v1',
            tenantId: 'acme',
            name: 'web',
            state: 'stopped',
            nodeId: 'n1',
            regionId: 'eu-west',
            clusterId: 'c1',
            vcpus: 2,
            memoryMiB: 2048,
            diskGiB: 20,
            image: 'debian-12',
            snapshots: 0,
            migration: null,
            createdRevision: 0,
            createdPosition: created?.position,
            createdAt: created?.metadata.occurredAt,
            revision: 0,
            position: created?.position,
            updatedAt: created?.metadata.occurredAt,
          });
          expect(q.getRegion('eu-west')?.totals.vms).toBe(1);
          expect(q.streamRevision('vm-v1')).toEqual({ revision: 0, position: created?.position });
        }));

    it('any other VM event leaves it absent (but its stream revision is recorded)', () =>
      given(...fleet)
        .when(vmStarted('ghost'), vmDeleted('ghost'))
        .then((q) => {
          expect(q.getVm('ghost')).toBeNull();
          expect(q.streamRevision('vm-ghost')?.revision).toBe(1);
          expect(q.getRegion('eu-west')?.totals.vms).toBe(0);
        }));
  });

  describe('that is stopped', () => {
    const history = [...fleet, vmCreated('v1')];
    it('VmStarted: running, revision and position move', () =>
      given(...history)
        .when(vmStarted('v1'))
        .then((q, [started]) => {
          expect(q.getVm('v1')).toMatchObject({ state: 'running', revision: 1, position: started?.position, createdRevision: 0 });
        }));
    it('VmResized: the new size', () =>
      given(...history)
        .when(vmResized('v1', { vcpus: 2, memoryMiB: 2048, diskGiB: 20 }, { vcpus: 4, memoryMiB: 1024, diskGiB: 40 }))
        .then((q) => expect(q.getVm('v1')).toMatchObject({ vcpus: 4, memoryMiB: 1024, diskGiB: 40, image: 'debian-12' })));
    it('VmMigrationStarted (cold): migrating, and back to stopped when it completes', () =>
      given(...history, vmMigrationStarted('v1', 'm1', { kind: 'cold', targetNodeId: 'n3', targetRegionId: 'us-east' }))
        .when(vmMigrationCompleted('v1', 'm1', 'n1', 'n3'))
        .then((q) => {
          expect(q.getVm('v1')).toMatchObject({ state: 'stopped', nodeId: 'n3', regionId: 'us-east', migration: null });
          expect(q.getRegion('eu-west')?.totals.vms).toBe(0);
          expect(q.getRegion('us-east')?.totals.vms).toBe(1);
        }));
    it('VmDeleted: deleted, and it no longer counts in its region', () =>
      given(...history)
        .when(vmDeleted('v1'))
        .then((q) => {
          expect(q.getVm('v1')?.state).toBe('deleted');
          expect(q.getRegion('eu-west')?.totals.vms).toBe(0);
        }));
  });

  describe('that is running', () => {
    const history = [...fleet, vmCreated('v1'), vmStarted('v1')];
    it('VmStopped: stopped', () => given(...history).when(vmStopped('v1')).then((q) => expect(q.getVm('v1')?.state).toBe('stopped')));
    it('VmRestarted: running', () => given(...history).when(vmRestarted('v1')).then((q) => expect(q.getVm('v1')).toMatchObject({ state: 'running', revision: 2 })));
    it('VmPaused: paused', () => given(...history).when(vmPaused('v1')).then((q) => expect(q.getVm('v1')?.state).toBe('paused')));
    it('VmSnapshotTaken: one more snapshot', () =>
      given(...history)
        .when(vmSnapshotTaken('v1', 's1'), vmSnapshotTaken('v1', 's2'))
        .then((q) => expect(q.getVm('v1')?.snapshots).toBe(2)));
    it('VmMigrationStarted (live): migrating, with the migration in flight', () =>
      given(...history)
        .when(vmMigrationStarted('v1', 'm1', { kind: 'live', targetNodeId: 'n2' }))
        .then((q) =>
          expect(q.getVm('v1')).toMatchObject({
            state: 'migrating',
            nodeId: 'n1',
            migration: { migrationId: 'm1', kind: 'live', sourceNodeId: 'n1', targetNodeId: 'n2', targetRegionId: 'eu-west', resumeAs: 'running' },
          }),
        ));
    it('VmFailed: failed', () => given(...history).when(vmFailed('v1')).then((q) => expect(q.getVm('v1')?.state).toBe('failed')));
  });

  describe('that is paused', () => {
    it('VmResumed: running', () =>
      given(...fleet, vmCreated('v1'), vmStarted('v1'), vmPaused('v1'))
        .when(vmResumed('v1'))
        .then((q) => expect(q.getVm('v1')?.state).toBe('running')));
  });

  describe('that is migrating', () => {
    const history = [...fleet, vmCreated('v1'), vmStarted('v1'), vmMigrationStarted('v1', 'm1', { targetNodeId: 'n2' })];
    it('VmMigrationCompleted: running on the target node', () =>
      given(...history)
        .when(vmMigrationCompleted('v1', 'm1', 'n1', 'n2'))
        .then((q) => expect(q.getVm('v1')).toMatchObject({ state: 'running', nodeId: 'n2', regionId: 'eu-west', migration: null })));
    it('VmMigrationFailed: running where it was', () =>
      given(...history)
        .when(vmMigrationFailed('v1', 'm1'))
        .then((q) => expect(q.getVm('v1')).toMatchObject({ state: 'running', nodeId: 'n1', migration: null })));
    it('VmFailed: failed, the migration dropped', () =>
      given(...history)
        .when(vmFailed('v1'))
        .then((q) => expect(q.getVm('v1')).toMatchObject({ state: 'failed', migration: null })));
    it('VmDeleted: deleted, the migration dropped', () =>
      given(...history)
        .when(vmDeleted('v1'))
        .then((q) => expect(q.getVm('v1')).toMatchObject({ state: 'deleted', migration: null })));
  });
});
