import { ignoreEvent, type DomainEvent } from '../decider.ts';

export type ClusterEvent = DomainEvent<'ClusterJoined' | 'ClusterLeft' | 'ClusterHealthReported'>;

export type ClusterStatus = 'joined' | 'left';

export interface Cluster {
  clusterId: string;
  status: ClusterStatus;
  /** Region it is in while joined; the last one after it left. */
  regionId: string;
  /** Last reported health; null until the first report after joining. */
  healthy: boolean | null;
}

/** null: the cluster never joined a region. */
export type ClusterState = Cluster | null;

export const initialState = (): ClusterState => null;

export function evolve(state: ClusterState, event: ClusterEvent): ClusterState {
  switch (event.type) {
    case 'ClusterJoined':
      return { clusterId: event.data.clusterId, status: 'joined', regionId: event.data.regionId, healthy: null };
    case 'ClusterLeft':
      return state === null ? state : { ...state, status: 'left', healthy: null };
    case 'ClusterHealthReported':
      return state === null ? state : { ...state, healthy: event.data.healthy };
    default:
      return ignoreEvent(event, state);
  }
}
