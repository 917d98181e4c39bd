import { describe, expect, it } from 'vitest';
import {
  capacityCommitted,
  capacityReleased,
  capacityReserved,
  given,
  nodeCapacityChanged,
  nodeCordoned,
  nodeDecommissioned,
  nodeDrainStarted,
  nodeFailed,
  nodeRegistered,
  nodeUncordoned,
  regionAdded,
} from './testing.ts';

const none = { vcpus: 0, memoryMiB: 0, diskGiB: 0 };
const vm = { vcpus: 2, memoryMiB: 2048, diskGiB: 20 };
const region = regionAdded('eu-west');

describe('inventory: a node', () => {
  describe('that does not exist', () => {
    it('NodeRegistered: active, its capacity and allocatable (overcommit on vCPUs and memory, never disk), counted in its region', () =>
      given(region)
        .when(nodeRegistered('n1', 'eu-west', { vcpus: 16, memoryMiB: 65_536, diskGiB: 2000, overcommitRatio: 1.5, clusterId: 'c1' }))
        .then((q, [registered]) => {
          expect(q.getNode('n1')).toEqual({
            nodeId: 'n1',
            regionId: 'eu-west',
            clusterId: 'c1',
            status: 'active',
            capacity: { vcpus: 16, memoryMiB: 65_536, diskGiB: 2000 },
            overcommitRatio: 1.5,
            allocatable: { vcpus: 24, memoryMiB: 98_304, diskGiB: 2000 },
            allocated: none,
            reserved: none,
            reservations: 0,
            vmIds: [],
            createdRevision: 0,
            createdPosition: registered?.position,
            createdAt: registered?.metadata.occurredAt,
            revision: 0,
            position: registered?.position,
            updatedAt: registered?.metadata.occurredAt,
          });
          expect(q.getRegion('eu-west')?.totals).toEqual({
            nodes: 1,
            vms: 0,
            vcpus: { capacity: 16, allocatable: 24, allocated: 0 },
            memoryMiB: { capacity: 65_536, allocatable: 98_304, allocated: 0 },
          });
        }));
    it('capacity events for it change nothing', () =>
      given(region)
        .when(capacityReserved('ghost', 'r1', 'v1'))
        .then((q) => expect(q.getNode('ghost')).toBeNull()));
  });

  describe('that is active', () => {
    const history = [region, nodeRegistered('n1', 'eu-west')];
    it('NodeCapacityChanged: new capacity, ratio and allocatable; region totals follow', () =>
      given(...history)
        .when(nodeCapacityChanged('n1', { vcpus: 32, memoryMiB: 131_072, diskGiB: 4000 }, 2))
        .then((q) => {
          expect(q.getNode('n1')).toMatchObject({ capacity: { vcpus: 32, memoryMiB: 131_072, diskGiB: 4000 }, overcommitRatio: 2, allocatable: { vcpus: 64, memoryMiB: 262_144, diskGiB: 4000 } });
          expect(q.getRegion('eu-west')?.totals.vcpus).toEqual({ capacity: 32, allocatable: 64, allocated: 0 });
        }));
    it('NodeCordoned: cordoned', () => given(...history).when(nodeCordoned('n1')).then((q) => expect(q.getNode('n1')?.status).toBe('cordoned')));
    it('NodeDrainStarted: draining', () => given(...history).when(nodeDrainStarted('n1', ['v1'])).then((q) => expect(q.getNode('n1')?.status).toBe('draining')));
    it('NodeFailed: failed; still a node of its region, but its capacity no longer counts', () =>
      given(...history)
        .when(nodeFailed('n1'))
        .then((q) => {
          expect(q.getNode('n1')?.status).toBe('failed');
          expect(q.getRegion('eu-west')?.totals).toMatchObject({ nodes: 1, vcpus: { capacity: 0, allocatable: 0, allocated: 0 } });
        }));
    it('NodeDecommissioned: decommissioned, and it leaves its region totals', () =>
      given(...history)
        .when(nodeDecommissioned('n1'))
        .then((q) => {
          expect(q.getNode('n1')?.status).toBe('decommissioned');
          expect(q.getRegion('eu-west')?.totals).toMatchObject({ nodes: 0, vcpus: { capacity: 0, allocatable: 0, allocated: 0 } });
        }));
    it('CapacityReserved: reserved, not allocated; placement sees the pending reservation', () =>
      given(...history)
        .when(capacityReserved('n1', 'r1', 'v1'))
        .then((q) => {
          expect(q.getNode('n1')).toMatchObject({ allocated: none, reserved: vm, reservations: 1 });
          expect(q.placementNodes()[0]?.pending).toEqual([{ reservationId: 'r1', vmId: 'v1', resources: vm, expiresAt: '2030-01-01T00:10:00Z' }]);
        }));
  });

  describe('that is cordoned', () => {
    it('NodeUncordoned: active again', () =>
      given(region, nodeRegistered('n1', 'eu-west'), nodeCordoned('n1'))
        .when(nodeUncordoned('n1'))
        .then((q) => expect(q.getNode('n1')?.status).toBe('active')));
  });

  describe('with a pending reservation', () => {
    const history = [region, nodeRegistered('n1', 'eu-west'), capacityReserved('n1', 'r1', 'v1')];
    it('CapacityCommitted: allocated to the VM, which the node now lists; region allocation follows', () =>
      given(...history)
        .when(capacityCommitted('n1', 'r1', 'v1'))
        .then((q) => {
          expect(q.getNode('n1')).toMatchObject({ allocated: vm, reserved: none, reservations: 0, vmIds: ['v1'] });
          expect(q.getRegion('eu-west')?.totals.vcpus.allocated).toBe(2);
          expect(q.placementNodes()[0]?.pending).toEqual([]);
        }));
    it('CapacityReleased (expired): the reservation is dropped', () =>
      given(...history)
        .when(capacityReleased('n1', 'r1', 'v1', 'expired'))
        .then((q) => expect(q.getNode('n1')).toMatchObject({ allocated: none, reserved: none, reservations: 0, vmIds: [] })));
  });

  describe('holding VMs', () => {
    const history = [
      region,
      nodeRegistered('n1', 'eu-west'),
      capacityReserved('n1', 'r1', 'v1'),
      capacityCommitted('n1', 'r1', 'v1'),
      capacityReserved('n1', 'r2', 'v2'),
      capacityCommitted('n1', 'r2', 'v2'),
    ];
    it('CapacityReleased (vm_migrated): the VM leaves the node', () =>
      given(...history)
        .when(capacityReleased('n1', 'r1', 'v1', 'vm_migrated'))
        .then((q) => {
          expect(q.getNode('n1')).toMatchObject({ allocated: vm, vmIds: ['v2'] });
          expect(q.getRegion('eu-west')?.totals.vcpus.allocated).toBe(2);
        }));
    it('CapacityReleased (vm_resized) of part of a holding keeps the VM on the node', () =>
      given(...history)
        .when(capacityReleased('n1', 'r1', 'v1', 'vm_resized', { vcpus: 1, memoryMiB: 0, diskGiB: 0 }))
        .then((q) => expect(q.getNode('n1')).toMatchObject({ allocated: { vcpus: 3, memoryMiB: 4096, diskGiB: 40 }, vmIds: ['v1', 'v2'] })));
  });
});
