import { unknownCommand, type Decider } from '../decider.ts';
import { invalidState, notFound } from '../shared/errors.ts';
import { optionalText, requireBoolean, requireId } from '../shared/validation.ts';
import type { ClusterCommand, JoinCluster } from './commands.ts';
import { evolve, initialState, type Cluster, type ClusterEvent, type ClusterState, type ClusterStatus } from './state.ts';

export function decide(command: ClusterCommand, state: ClusterState): ClusterEvent[] {
  switch (command.type) {
    case 'JoinCluster':
      return join(command, state);
    case 'LeaveCluster': {
      const { clusterId, regionId } = clusterIn(command, state, ['joined']);
      return [{ type: 'ClusterLeft', data: { clusterId, regionId } }];
    }
    case 'ReportClusterHealth': {
      const healthy = requireBoolean('healthy', command.data.healthy);
      const detail = optionalText('detail', command.data.detail, { maxLength: 4000 });
      const { clusterId, regionId } = clusterIn(command, state, ['joined']);
      return [{ type: 'ClusterHealthReported', data: { clusterId, regionId, healthy, detail } }];
    }
    default:
      return unknownCommand(command);
  }
}

export const clusterDecider: Decider<ClusterCommand, ClusterEvent, ClusterState> = { initialState, evolve, decide };

function clusterIn(command: ClusterCommand, state: ClusterState, allowed: readonly ClusterStatus[]): Cluster {
  if (state === null) throw notFound('cluster', command.data.clusterId);
  if (!allowed.includes(state.status)) throw invalidState({ entity: 'cluster', id: state.clusterId, command: command.type, state: state.status, allowed });
  return state;
}

function join({ data, type }: JoinCluster, state: ClusterState): ClusterEvent[] {
  const clusterId = requireId('clusterId', data.clusterId);
  const regionId = requireId('regionId', data.regionId);
  if (state?.status === 'joined') {
    if (state.regionId === regionId) return [];
    throw invalidState(
      { entity: 'cluster', id: clusterId, command: type, state: 'joined', allowed: ['left'], regionId: state.regionId, requestedRegionId: regionId },
      `cluster ${clusterId} belongs to region ${state.regionId}; it must leave it before joining ${regionId}`,
    );
  }
  return [{ type: 'ClusterJoined', data: { clusterId, regionId } }];
}
