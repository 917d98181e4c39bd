import { NovaCronError } from '../../streams/errors/index.ts';
import { unknownCommand, type Decider } from '../decider.ts';
import { alreadyExists, invalidState, notFound } from '../shared/errors.ts';
import { holdingRelease, isEmpty, pendingRelease, reservationClash, reservedTotal, trimRelease, type Release } from '../shared/ledger.ts';
import { add, firstShortfall, isZero, requireAmounts, sameAmounts } from '../shared/resources.ts';
import { INT_MAX, invalid, optionalText, requireId, requireInstant, requireLabels, requireNumber, requireText, unexpected } from '../shared/validation.ts';
import type {
  ChangeNodeCapacity,
  CommitCapacity,
  CordonNode,
  DecommissionNode,
  DrainNode,
  MarkNodeFailed,
  NodeCommand,
  RegisterNode,
  ReleaseCapacity,
  ReserveCapacity,
  UncordonNode,
} from './commands.ts';
import {
  allocatable,
  CAPACITY_DIMENSIONS as DIMS,
  evolve,
  initialState,
  type CapacityDimension,
  type Node,
  type NodeEvent,
  type NodeState,
  type NodeStatus,
} from './state.ts';

export const OVERCOMMIT_RATIO = { min: 1, max: 16, default: 1 } as const;

export function decide(command: NodeCommand, state: NodeState): NodeEvent[] {
  switch (command.type) {
    case 'RegisterNode':
      return register(command, state);
    case 'ChangeNodeCapacity':
      return changeCapacity(command, state);
    case 'CordonNode':
      return cordon(command, state);
    case 'UncordonNode':
      return uncordon(command, state);
    case 'DrainNode':
      return drain(command, state);
    case 'MarkNodeFailed':
      return markFailed(command, state);
    case 'DecommissionNode':
      return decommission(command, state);
    case 'ReserveCapacity':
      return reserve(command, state);
    case 'CommitCapacity':
      return commit(command, state);
    case 'ReleaseCapacity':
      return release(command, state);
    default:
      return unknownCommand(command);
  }
}

export const nodeDecider: Decider<NodeCommand, NodeEvent, NodeState> = { initialState, evolve, decide };

const IN_SERVICE: readonly NodeStatus[] = ['active', 'cordoned', 'draining', 'failed'];
const ANY: readonly NodeStatus[] = [...IN_SERVICE, 'decommissioned'];

function nodeIn(command: NodeCommand, state: NodeState, allowed: readonly NodeStatus[]): Node {
  if (state === null) throw notFound('node', command.data.nodeId);
  if (!allowed.includes(state.status)) throw invalidState({ entity: 'node', id: state.nodeId, command: command.type, state: state.status, allowed });
  return state;
}

const requireCapacity = (value: unknown) => requireAmounts('capacity', DIMS, value, { min: 1, max: INT_MAX });
const requireRatio = (value: unknown) => requireNumber('overcommitRatio', value, OVERCOMMIT_RATIO);
/** VMs allocated on the node, sorted so events do not depend on insertion order. */
const vmIdsOn = (node: Node) => Object.keys(node.committed).sort();

function register({ data }: RegisterNode, state: NodeState): NodeEvent[] {
  const nodeId = requireId('nodeId', data.nodeId);
  const regionId = requireId('regionId', data.regionId);
  const clusterId = data.clusterId === undefined || data.clusterId === null ? null : requireId('clusterId', data.clusterId);
  const capacity = requireCapacity(data.capacity);
  const overcommitRatio = requireRatio(data.overcommitRatio ?? OVERCOMMIT_RATIO.default);
  const labels = { ...requireLabels('labels', data.labels ?? {}) };
  if (state !== null) throw alreadyExists('node', nodeId);
  return [{ type: 'NodeRegistered', data: { nodeId, regionId, clusterId, capacity, overcommitRatio, labels } }];
}

function changeCapacity(command: ChangeNodeCapacity, state: NodeState): NodeEvent[] {
  const capacity = requireCapacity(command.data.capacity);
  const ratio = command.data.overcommitRatio;
  const node = nodeIn(command, state, IN_SERVICE);
  const overcommitRatio = ratio === undefined ? node.overcommitRatio : requireRatio(ratio);
  if (overcommitRatio === node.overcommitRatio && sameAmounts(DIMS, capacity, node.capacity)) return [];
  const limit = allocatable(capacity, overcommitRatio);
  const reserved = reservedTotal(DIMS, node);
  const held = add(DIMS, node.used, reserved);
  const dimension = DIMS.find((d) => limit[d] < held[d]);
  if (dimension !== undefined) {
    throw new NovaCronError('NC_CAPACITY_EXHAUSTED', `node ${node.nodeId} would offer ${limit[dimension]} ${dimension} but holds ${held[dimension]}`, {
      details: { nodeId: node.nodeId, dimension, requested: limit[dimension], allocated: node.used[dimension], reserved: reserved[dimension] },
    });
  }
  return [{ type: 'NodeCapacityChanged', data: { nodeId: node.nodeId, capacity, overcommitRatio } }];
}

function cordon(command: CordonNode, state: NodeState): NodeEvent[] {
  const reason = optionalText('reason', command.data.reason, { maxLength: 1000 });
  const { nodeId } = nodeIn(command, state, ['active']);
  return [{ type: 'NodeCordoned', data: { nodeId, reason } }];
}

function uncordon(command: UncordonNode, state: NodeState): NodeEvent[] {
  const { nodeId } = nodeIn(command, state, ['cordoned', 'draining']);
  return [{ type: 'NodeUncordoned', data: { nodeId } }];
}

function drain(command: DrainNode, state: NodeState): NodeEvent[] {
  const reason = optionalText('reason', command.data.reason, { maxLength: 1000 }) ?? 'drain';
  const node = nodeIn(command, state, ['active', 'cordoned']);
  const started: NodeEvent = { type: 'NodeDrainStarted', data: { nodeId: node.nodeId, vmIds: vmIdsOn(node) } };
  return node.status === 'active' ? [{ type: 'NodeCordoned', data: { nodeId: node.nodeId, reason } }, started] : [started];
}

function markFailed(command: MarkNodeFailed, state: NodeState): NodeEvent[] {
  const reason = requireText('reason', command.data.reason, { maxLength: 1000 });
  const node = nodeIn(command, state, ['active', 'cordoned', 'draining']);
  return [{ type: 'NodeFailed', data: { nodeId: node.nodeId, reason, vmIds: vmIdsOn(node) } }];
}

function decommission(command: DecommissionNode, state: NodeState): NodeEvent[] {
  const node = nodeIn(command, state, IN_SERVICE);
  if (!isEmpty(node)) {
    const vms = Object.keys(node.committed).length;
    const reservations = Object.keys(node.reservations).length;
    throw invalidState(
      { entity: 'node', id: node.nodeId, command: command.type, state: node.status, allowed: IN_SERVICE, vms, reservations },
      `node ${node.nodeId} still holds ${vms} VM(s) and ${reservations} open reservation(s)`,
    );
  }
  return [{ type: 'NodeDecommissioned', data: { nodeId: node.nodeId } }];
}

function reserve(command: ReserveCapacity, state: NodeState): NodeEvent[] {
  const { data, metadata } = command;
  const reservationId = requireId('reservationId', data.reservationId);
  const vmId = requireId('vmId', data.vmId);
  const resources = requireAmounts('resources', DIMS, data.resources);
  if (isZero(DIMS, resources)) throw invalid('resources', 'must reserve something');
  if (requireInstant('expiresAt', data.expiresAt) <= requireInstant('metadata.now', metadata.now)) {
    throw invalid('expiresAt', 'must be after metadata.now', { now: metadata.now });
  }
  const node = nodeIn(command, state, ['active']);
  const clash = reservationClash(DIMS, node, reservationId, { vmId, resources, expiresAt: data.expiresAt });
  if (clash === 'same') return [];
  if (clash === 'conflict') throw alreadyExists('capacity reservation', reservationId);
  const limit = allocatable(node.capacity, node.overcommitRatio);
  const shortfall = firstShortfall(DIMS, limit, add(DIMS, node.used, reservedTotal(DIMS, node)), resources);
  if (shortfall) {
    throw new NovaCronError('NC_CAPACITY_EXHAUSTED', `node ${node.nodeId} has ${shortfall.available} ${shortfall.dimension} left, ${shortfall.requested} requested`, {
      details: { nodeId: node.nodeId, ...shortfall },
    });
  }
  return [{ type: 'CapacityReserved', data: { nodeId: node.nodeId, reservationId, vmId, resources, expiresAt: data.expiresAt } }];
}

function commit(command: CommitCapacity, state: NodeState): NodeEvent[] {
  const reservationId = requireId('reservationId', command.data.reservationId);
  const node = nodeIn(command, state, ANY);
  const pending = pendingRelease(node, reservationId);
  return pending ? [{ type: 'CapacityCommitted', data: { nodeId: node.nodeId, reservationId, vmId: pending.vmId } }] : [];
}

function release(command: ReleaseCapacity, state: NodeState): NodeEvent[] {
  const node = nodeIn(command, state, ANY);
  const released = toRelease(command, node);
  if (released === null) return [];
  return [{ type: 'CapacityReleased', data: { nodeId: node.nodeId, ...released, reason: command.data.reason } }];
}

function toRelease({ data }: ReleaseCapacity, node: Node): Release<CapacityDimension> | null {
  switch (data.reason) {
    case 'placement_failed':
    case 'expired':
    case 'compensated':
      return pendingRelease(node, requireId('reservationId', data.reservationId));
    case 'vm_deleted':
    case 'vm_migrated':
      return holdingRelease(node, requireId('vmId', data.vmId));
    case 'vm_resized':
      return trimRelease(DIMS, node, requireId('vmId', data.vmId), requireAmounts('size', DIMS, data.size, { min: 1 }));
    default:
      return unexpected('reason', data);
  }
}
