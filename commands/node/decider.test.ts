import { describe, it } from 'vitest';
import type { CapacityResources, NodeCapacity } from '../../schemas/generated/events.ts';
import { DeciderSpecification } from '../testing/specification.ts';
import type { NodeCommand, RegisterNode, ReleaseCapacityData } from './commands.ts';
import { nodeDecider } from './decider.ts';
import type { NodeEvent } from './state.ts';

const spec = DeciderSpecification.for(nodeDecider);
const metadata = { now: '2025-01-01T00:00:00Z' };
const expiresAt = '2025-01-01T00:15:00Z';
const nodeId = 'n1';
/** With ratio 2: 16 vCPUs and 32768 MiB allocatable; disk is never overcommitted: 100 GiB. */
const capacity: NodeCapacity = { vcpus: 8, memoryMiB: 16384, diskGiB: 100 };
const small: CapacityResources = { vcpus: 4, memoryMiB: 8192, diskGiB: 40 };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

const command = {
  register: (data: Partial<RegisterNode['data']> = {}): NodeCommand => ({
    type: 'RegisterNode',
    data: { nodeId, regionId: 'eu-west', clusterId: 'c1', capacity, overcommitRatio: 2, labels: { rack: 'r7' }, ...data },
    metadata,
  }),
  changeCapacity: (to: NodeCapacity, overcommitRatio?: number): NodeCommand => ({
    type: 'ChangeNodeCapacity',
    data: { nodeId, capacity: to, overcommitRatio },
    metadata,
  }),
  cordon: (reason?: string): NodeCommand => ({ type: 'CordonNode', data: { nodeId, reason }, metadata }),
  uncordon: (): NodeCommand => ({ type: 'UncordonNode', data: { nodeId }, metadata }),
  drain: (): NodeCommand => ({ type: 'DrainNode', data: { nodeId }, metadata }),
  markFailed: (): NodeCommand => ({ type: 'MarkNodeFailed', data: { nodeId, reason: 'PSU failure' }, metadata }),
  decommission: (): NodeCommand => ({ type: 'DecommissionNode', data: { nodeId }, metadata }),
  reserve: (reservationId: string, resources = small, expires = expiresAt): NodeCommand => ({
    type: 'ReserveCapacity',
    data: { nodeId, reservationId, vmId: `vm-of-${reservationId}`, resources, expiresAt: expires },
    metadata,
  }),
  commit: (reservationId: string): NodeCommand => ({ type: 'CommitCapacity', data: { nodeId, reservationId }, metadata }),
  release: (data: DistributiveOmit<ReleaseCapacityData, 'nodeId'>): NodeCommand => ({
    type: 'ReleaseCapacity',
    data: { nodeId, ...data } as ReleaseCapacityData,
    metadata,
  }),
};

const event = {
  registered: {
    type: 'NodeRegistered',
    data: { nodeId, regionId: 'eu-west', clusterId: 'c1', capacity, overcommitRatio: 2, labels: { rack: 'r7' } },
  },
  capacityChanged: (to: NodeCapacity, overcommitRatio = 2): NodeEvent => ({ type: 'NodeCapacityChanged', data: { nodeId, capacity: to, overcommitRatio } }),
  cordoned: (reason: string | null = null): NodeEvent => ({ type: 'NodeCordoned', data: { nodeId, reason } }),
  uncordoned: { type: 'NodeUncordoned', data: { nodeId } },
  drainStarted: (vmIds: string[]): NodeEvent => ({ type: 'NodeDrainStarted', data: { nodeId, vmIds } }),
  failed: (vmIds: string[]): NodeEvent => ({ type: 'NodeFailed', data: { nodeId, reason: 'PSU failure', vmIds } }),
  decommissioned: { type: 'NodeDecommissioned', data: { nodeId } },
  reserved: (reservationId: string, resources = small, vmId = `vm-of-${reservationId}`): NodeEvent => ({
    type: 'CapacityReserved',
    data: { nodeId, reservationId, vmId, resources, expiresAt },
  }),
  committed: (reservationId: string, vmId = `vm-of-${reservationId}`): NodeEvent => ({ type: 'CapacityCommitted', data: { nodeId, reservationId, vmId } }),
  released: (reservationId: string, resources: CapacityResources, reason: ReleaseCapacityData['reason'], vmId = `vm-of-${reservationId}`): NodeEvent => ({
    type: 'CapacityReleased',
    data: { nodeId, reservationId, vmId, resources, reason },
  }),
} satisfies Record<string, NodeEvent | ((...args: never[]) => NodeEvent)>;

/** vm-of-r1 allocated (small), r2 pending (small): 8 vCPUs, 16384 MiB and 20 GiB left. */
const busy: NodeEvent[] = [event.registered, event.reserved('r1'), event.committed('r1'), event.reserved('r2')];
const empty: NodeEvent[] = [event.registered];

/** Each command on an existing node but RegisterNode and those that settle a reservation. */
const operations: NodeCommand[] = [
  command.changeCapacity(capacity),
  command.cordon(),
  command.uncordon(),
  command.drain(),
  command.markFailed(),
  command.decommission(),
  command.reserve('r1'),
];
/** Settling reservation r1: committing it, or releasing it as expired. */
const settlements: NodeCommand[] = [command.commit('r1'), command.release({ reason: 'expired', reservationId: 'r1' })];

function rejectsIn(state: string, given: NodeEvent[], commands: NodeCommand[]) {
  it.each(commands)(`rejects $type (${state})`, (c) => spec.given(given).when(c).thenThrows('NC_INVALID_STATE', { entity: 'node', id: nodeId, state }));
}

/** What a node with `busy`'s ledger still does once cordoned, draining or failed. */
function keepsItsLedger(given: NodeEvent[]) {
  it('refuses to register it again', () => spec.given(given).when(command.register()).thenThrows('NC_ALREADY_EXISTS'));
  it('changes the capacity', () => spec.given(given).when(command.changeCapacity(capacity, 3)).then([event.capacityChanged(capacity, 3)]));
  it('refuses to decommission it while it holds VMs', () => spec.given(given).when(command.decommission()).thenThrows('NC_INVALID_STATE', { vms: 1 }));
  it('commits a reservation made before', () => spec.given(given).when(command.commit('r2')).then([event.committed('r2')]));
}

describe('node decider', () => {
  describe('when the node does not exist', () => {
    it('registers it', () => spec.given([]).when(command.register()).then([event.registered]));

    it('defaults the ratio to 1, the cluster to none and the labels to none', () =>
      spec
        .given([])
        .when(command.register({ overcommitRatio: undefined, clusterId: undefined, labels: undefined }))
        .then([{ type: 'NodeRegistered', data: { nodeId, regionId: 'eu-west', clusterId: null, capacity, overcommitRatio: 1, labels: {} } }]));

    it.each([
      ['capacity.vcpus', { capacity: { ...capacity, vcpus: 0 } }],
      ['capacity.memoryMiB', { capacity: { ...capacity, memoryMiB: -1 } }],
      ['capacity.diskGiB', { capacity: { ...capacity, diskGiB: 0.5 } }],
      ['overcommitRatio', { overcommitRatio: 0.9 }],
      ['overcommitRatio', { overcommitRatio: 16.5 }],
      ['overcommitRatio', { overcommitRatio: Number.NaN }],
      ['regionId', { regionId: '' }],
    ])('rejects an invalid %s', (field, data) => spec.given([]).when(command.register(data)).thenThrows('NC_VALIDATION', { field }));

    it.each([...operations, ...settlements])('rejects $type as not found', (c) => spec.given([]).when(c).thenThrows('NC_NOT_FOUND', { entity: 'node', id: nodeId }));
  });

  describe('when the node is active', () => {
    it('refuses to register it again', () => spec.given(empty).when(command.register()).thenThrows('NC_ALREADY_EXISTS', { entity: 'node', id: nodeId }));

    describe('ChangeNodeCapacity', () => {
      const bigger = { ...capacity, vcpus: 16 };
      it('changes the capacity, keeping the ratio', () => spec.given(empty).when(command.changeCapacity(bigger)).then([event.capacityChanged(bigger)]));
      it('changes the ratio', () => spec.given(empty).when(command.changeCapacity(capacity, 4)).then([event.capacityChanged(capacity, 4)]));
      it('does nothing when nothing changes', () => spec.given(empty).when(command.changeCapacity(capacity, 2)).then([]));
      it('goes down to exactly what is held', () =>
        spec.given(busy).when(command.changeCapacity({ vcpus: 8, memoryMiB: 16384, diskGiB: 80 }, 1)).then([event.capacityChanged({ vcpus: 8, memoryMiB: 16384, diskGiB: 80 }, 1)]));
      it('never goes below what is allocated and reserved', () =>
        spec
          .given(busy)
          .when(command.changeCapacity({ vcpus: 7, memoryMiB: 16384, diskGiB: 100 }, 1))
          .thenThrows('NC_CAPACITY_EXHAUSTED', { dimension: 'vcpus', requested: 7, allocated: 4, reserved: 4 }));
      it('never shrinks the disk below what is held, whatever the ratio', () =>
        spec
          .given(busy)
          .when(command.changeCapacity({ ...capacity, diskGiB: 79 }, 16))
          .thenThrows('NC_CAPACITY_EXHAUSTED', { dimension: 'diskGiB', requested: 79, allocated: 40, reserved: 40 }));
      it('rejects a ratio out of range', () => spec.given(empty).when(command.changeCapacity(capacity, 17)).thenThrows('NC_VALIDATION', { field: 'overcommitRatio' }));
    });

    it('cordons it', () => spec.given(empty).when(command.cordon('kernel upgrade')).then([event.cordoned('kernel upgrade')]));
    it('cordons, then drains it, listing its VMs in order', () =>
      spec
        .given([...busy, event.committed('r2'), event.reserved('r0', small)])
        .when(command.drain())
        .then([event.cordoned('drain'), event.drainStarted(['vm-of-r1', 'vm-of-r2'])]));
    it('marks it failed, listing its VMs', () => spec.given(busy).when(command.markFailed()).then([event.failed(['vm-of-r1'])]));
    it('decommissions it when empty', () => spec.given(empty).when(command.decommission()).then([event.decommissioned]));
    it('decommissions it once everything is released', () =>
      spec
        .given([...busy, event.released('r1', small, 'vm_deleted'), event.released('r2', small, 'expired')])
        .when(command.decommission())
        .then([event.decommissioned]));
    it('refuses to decommission it while a VM is allocated', () =>
      spec.given(busy.slice(0, 3)).when(command.decommission()).thenThrows('NC_INVALID_STATE', { vms: 1, reservations: 0 }));
    it('refuses to decommission it while a reservation is open', () =>
      spec.given([event.registered, event.reserved('r1')]).when(command.decommission()).thenThrows('NC_INVALID_STATE', { vms: 0, reservations: 1 }));
    rejectsIn('active', empty, [command.uncordon()]);

    describe('ReserveCapacity', () => {
      it('reserves capacity', () => spec.given(empty).when(command.reserve('r1')).then([event.reserved('r1')]));
      it('overcommits vCPUs and memory by the ratio', () => {
        const most = { vcpus: 16, memoryMiB: 32768, diskGiB: 100 };
        spec.given(empty).when(command.reserve('r1', most)).then([event.reserved('r1', most)]);
      });
      it('rounds a fractional overcommit down', () =>
        spec
          .given([event.registered, event.capacityChanged({ vcpus: 3, memoryMiB: 1024, diskGiB: 10 }, 1.5)])
          .when(command.reserve('r1', { vcpus: 5, memoryMiB: 1, diskGiB: 1 }))
          .thenThrows('NC_CAPACITY_EXHAUSTED', { dimension: 'vcpus', requested: 5, available: 4 }));
      it.each([
        ['vcpus', { vcpus: 9, memoryMiB: 1, diskGiB: 1 }, 9, 8],
        ['memoryMiB', { vcpus: 1, memoryMiB: 16385, diskGiB: 1 }, 16385, 16384],
        ['diskGiB', { vcpus: 1, memoryMiB: 1, diskGiB: 21 }, 21, 20],
      ])('counts allocations and reservations: too much %s', (dimension, resources, requested, available) =>
        spec.given(busy).when(command.reserve('r3', resources)).thenThrows('NC_CAPACITY_EXHAUSTED', { nodeId, dimension, requested, available }));
      it('fills what is left exactly', () => {
        const rest = { vcpus: 8, memoryMiB: 16384, diskGiB: 20 };
        spec.given(busy).when(command.reserve('r3', rest)).then([event.reserved('r3', rest)]);
      });
      it('is a no-op when the same reservation is asked again', () => spec.given(busy).when(command.reserve('r2')).then([]));
      it('refuses a reservation id in use for something else', () =>
        spec.given(busy).when(command.reserve('r2', { ...small, vcpus: 1 })).thenThrows('NC_ALREADY_EXISTS', { entity: 'capacity reservation', id: 'r2' }));
      it('refuses a reservation id already committed', () => spec.given(busy).when(command.reserve('r1')).thenThrows('NC_ALREADY_EXISTS', { id: 'r1' }));
      it.each([
        ['expiresAt', command.reserve('r1', small, metadata.now)],
        ['resources', command.reserve('r1', { vcpus: 0, memoryMiB: 0, diskGiB: 0 })],
        ['resources.memoryMiB', command.reserve('r1', { ...small, memoryMiB: -1 })],
      ])('rejects an invalid %s', (field, c) => spec.given(empty).when(c).thenThrows('NC_VALIDATION', { field }));
    });

    describe('CommitCapacity', () => {
      it('commits a pending reservation', () => spec.given(busy).when(command.commit('r2')).then([event.committed('r2')]));
      it('is a no-op for an unknown reservation', () => spec.given(busy).when(command.commit('r9')).then([]));
      it('is a no-op for a committed reservation', () => spec.given(busy).when(command.commit('r1')).then([]));
    });

    describe('ReleaseCapacity', () => {
      it.each(['placement_failed', 'expired', 'compensated'] as const)('drops a pending reservation (%s)', (reason) =>
        spec.given(busy).when(command.release({ reason, reservationId: 'r2' })).then([event.released('r2', small, reason)]));
      it('is a no-op for an unknown reservation', () => spec.given(busy).when(command.release({ reason: 'expired', reservationId: 'r9' })).then([]));
      it('is a no-op when the sweeper comes after the commit', () => spec.given(busy).when(command.release({ reason: 'expired', reservationId: 'r1' })).then([]));
      it.each(['vm_deleted', 'vm_migrated'] as const)('gives back the allocation of a VM (%s)', (reason) =>
        spec.given(busy).when(command.release({ reason, vmId: 'vm-of-r1' })).then([event.released('r1', small, reason)]));
      it('is a no-op for a VM that holds nothing here', () =>
        spec
          .given([...busy, event.released('r1', small, 'vm_migrated')])
          .when(command.release({ reason: 'vm_migrated', vmId: 'vm-of-r1' }))
          .then([]));
      it('frees the capacity it gives back', () =>
        spec
          .given([...busy, event.released('r1', small, 'vm_deleted')])
          .when(command.reserve('r3', { vcpus: 12, memoryMiB: 1, diskGiB: 60 }))
          .then([event.reserved('r3', { vcpus: 12, memoryMiB: 1, diskGiB: 60 })]));

      describe('after a resize (4 vCPU / 8192 MiB → 8 vCPU / 4096 MiB)', () => {
        const grow = { vcpus: 4, memoryMiB: 0, diskGiB: 0 };
        const resized = [...busy, event.reserved('r5', grow, 'vm-of-r1'), event.committed('r5', 'vm-of-r1')];
        const size = { vcpus: 8, memoryMiB: 4096, diskGiB: 40 };
        const shrink = { vcpus: 0, memoryMiB: 4096, diskGiB: 0 };
        it('gives back what the VM holds beyond its new size', () =>
          spec.given(resized).when(command.release({ reason: 'vm_resized', vmId: 'vm-of-r1', size })).then([event.released('r1', shrink, 'vm_resized')]));
        it('is a no-op once the VM holds exactly its size', () =>
          spec
            .given([...resized, event.released('r1', shrink, 'vm_resized')])
            .when(command.release({ reason: 'vm_resized', vmId: 'vm-of-r1', size }))
            .then([]));
        it('gives back the whole new size when the VM moves away', () =>
          spec
            .given([...resized, event.released('r1', shrink, 'vm_resized')])
            .when(command.release({ reason: 'vm_migrated', vmId: 'vm-of-r1' }))
            .then([event.released('r1', size, 'vm_migrated')]));
      });
    });
  });

  describe('when the node is cordoned', () => {
    const cordoned = [...busy, event.cordoned('maintenance')];
    keepsItsLedger(cordoned);
    it('uncordons it', () => spec.given(cordoned).when(command.uncordon()).then([event.uncordoned]));
    it('takes reservations again once uncordoned', () => {
      const tiny = { vcpus: 1, memoryMiB: 1, diskGiB: 1 };
      spec.given([...cordoned, event.uncordoned]).when(command.reserve('r3', tiny)).then([event.reserved('r3', tiny)]);
    });
    it('drains it without cordoning it again', () => spec.given(cordoned).when(command.drain()).then([event.drainStarted(['vm-of-r1'])]));
    it('marks it failed', () => spec.given(cordoned).when(command.markFailed()).then([event.failed(['vm-of-r1'])]));
    it('decommissions it when empty', () => spec.given([event.registered, event.cordoned()]).when(command.decommission()).then([event.decommissioned]));
    it('takes no reservation', () =>
      spec.given(cordoned).when(command.reserve('r3')).thenThrows('NC_INVALID_STATE', { state: 'cordoned', allowed: ['active'] }));
    it('releases capacity', () => spec.given(cordoned).when(command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' })).then([event.released('r1', small, 'vm_deleted')]));
    rejectsIn('cordoned', cordoned, [command.cordon()]);
  });

  describe('when the node is draining', () => {
    const draining = [...busy, event.cordoned('drain'), event.drainStarted(['vm-of-r1'])];
    keepsItsLedger(draining);
    it('uncordons it, cancelling the drain', () => spec.given(draining).when(command.uncordon()).then([event.uncordoned]));
    it('marks it failed', () => spec.given(draining).when(command.markFailed()).then([event.failed(['vm-of-r1'])]));
    it('decommissions it once its VMs moved away', () =>
      spec
        .given([...draining, event.released('r1', small, 'vm_migrated'), event.released('r2', small, 'compensated')])
        .when(command.decommission())
        .then([event.decommissioned]));
    it('releases the allocation of a VM that moved away', () =>
      spec.given(draining).when(command.release({ reason: 'vm_migrated', vmId: 'vm-of-r1' })).then([event.released('r1', small, 'vm_migrated')]));
    rejectsIn('draining', draining, [command.cordon(), command.drain(), command.reserve('r3')]);
  });

  describe('when the node has failed', () => {
    const failed = [...busy, event.failed(['vm-of-r1'])];
    keepsItsLedger(failed);
    it('decommissions it once its VMs are released', () =>
      spec
        .given([...failed, event.released('r1', small, 'vm_deleted'), event.released('r2', small, 'expired')])
        .when(command.decommission())
        .then([event.decommissioned]));
    it('releases the allocation of a deleted VM', () =>
      spec.given(failed).when(command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' })).then([event.released('r1', small, 'vm_deleted')]));
    rejectsIn('failed', failed, [command.cordon(), command.uncordon(), command.drain(), command.markFailed(), command.reserve('r3')]);
  });

  describe('when the node is decommissioned', () => {
    const gone = [event.registered, event.decommissioned];
    it('refuses to register it again', () => spec.given(gone).when(command.register()).thenThrows('NC_ALREADY_EXISTS', { entity: 'node', id: nodeId }));
    rejectsIn('decommissioned', gone, operations);
    it.each([...settlements, command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' })])(
      'answers a late $type with no events',
      (c) => spec.given(gone).when(c).then([]),
    );
  });
});
