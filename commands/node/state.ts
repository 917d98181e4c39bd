import type { NodeCapacity } from '../../schemas/generated/events.ts';
import { ignoreEvent, type DomainEvent } from '../decider.ts';
import { foldCommitted, foldReleased, foldReserved, type Ledger } from '../shared/ledger.ts';
import { pick, zero, type Amounts } from '../shared/resources.ts';

export const CAPACITY_DIMENSIONS = ['vcpus', 'memoryMiB', 'diskGiB'] as const satisfies readonly (keyof NodeCapacity)[];
export type CapacityDimension = (typeof CAPACITY_DIMENSIONS)[number];

export type NodeStatus = 'active' | 'cordoned' | 'draining' | 'failed' | 'decommissioned';

export type NodeEvent = DomainEvent<
  | 'NodeRegistered'
  | 'NodeCapacityChanged'
  | 'NodeCordoned'
  | 'NodeUncordoned'
  | 'NodeDrainStarted'
  | 'NodeFailed'
  | 'NodeDecommissioned'
  | 'CapacityReserved'
  | 'CapacityCommitted'
  | 'CapacityReleased'
>;

/** A node: capacity, and the ledger of allocations (`committed` per VM, `used`) and pending `reservations`. */
export interface Node extends Ledger<CapacityDimension> {
  nodeId: string;
  regionId: string;
  clusterId: string | null;
  status: NodeStatus;
  capacity: NodeCapacity;
  overcommitRatio: number;
}

/** null: the node does not exist. */
export type NodeState = Node | null;

/**
 * What a node can hand out: vCPUs and memory are overcommitted (capacity ×
 * ratio, rounded down), disk never is.
 */
export const allocatable = (capacity: NodeCapacity, overcommitRatio: number): Amounts<CapacityDimension> => ({
  vcpus: Math.floor(capacity.vcpus * overcommitRatio + 1e-9),
  memoryMiB: Math.floor(capacity.memoryMiB * overcommitRatio + 1e-9),
  diskGiB: capacity.diskGiB,
});

export const initialState = (): NodeState => null;

export function evolve(state: NodeState, event: NodeEvent): NodeState {
  if (event.type === 'NodeRegistered') {
    const { nodeId, regionId, clusterId, capacity, overcommitRatio } = event.data;
    return {
      nodeId,
      regionId,
      clusterId,
      status: 'active',
      capacity: pick(CAPACITY_DIMENSIONS, capacity),
      overcommitRatio,
      reservations: {},
      committed: {},
      used: zero(CAPACITY_DIMENSIONS),
    };
  }
  if (state === null) return state;
  switch (event.type) {
    case 'NodeCapacityChanged':
      return { ...state, capacity: pick(CAPACITY_DIMENSIONS, event.data.capacity), overcommitRatio: event.data.overcommitRatio };
    case 'NodeCordoned':
      return { ...state, status: 'cordoned' };
    case 'NodeUncordoned':
      return { ...state, status: 'active' };
    case 'NodeDrainStarted':
      return { ...state, status: 'draining' };
    case 'NodeFailed':
      return { ...state, status: 'failed' };
    case 'NodeDecommissioned':
      return { ...state, status: 'decommissioned' };
    case 'CapacityReserved': {
      const { reservationId, vmId, resources, expiresAt } = event.data;
      return { ...state, ...foldReserved(state, reservationId, { vmId, resources: pick(CAPACITY_DIMENSIONS, resources), expiresAt }) };
    }
    case 'CapacityCommitted':
      return { ...state, ...foldCommitted(CAPACITY_DIMENSIONS, state, event.data.reservationId) };
    case 'CapacityReleased': {
      const { reservationId, vmId, resources } = event.data;
      return { ...state, ...foldReleased(CAPACITY_DIMENSIONS, state, { reservationId, vmId, resources: pick(CAPACITY_DIMENSIONS, resources) }) };
    }
    default:
      return ignoreEvent(event, state);
  }
}
