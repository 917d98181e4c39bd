import type { EventStore } from '../../streams/eventstore/index.ts';
import { toDomainEvent } from '../handling/handle-command.ts';
import { evolve as evolveNode, type Node, type NodeEvent } from '../node/state.ts';

export interface RegionInfo {
  regionId: string;
  retired: boolean;
}

export interface ClusterInfo {
  clusterId: string;
  regionId: string | null;
  healthy: boolean;
}

/** What placement ranks a node by: its status and place, capacity, what is allocated and what is pending. */
export type PlacementNode = Pick<Node, 'nodeId' | 'regionId' | 'clusterId' | 'status' | 'capacity' | 'overcommitRatio' | 'used' | 'reservations'>;

/**
 * What placement needs to know about the fleet. It may be a moment stale; that
 * is safe, because a reservation is decided on the node stream itself, with its
 * expected revision, and a full node is skipped. Implementations: the in-memory
 * directory below (catches up from the log itself), and one over the inventory
 * projection (api/placement/inventory-directory.ts).
 */
export interface FleetDirectory {
  /**
   * Brings the view up to date (bounded: it may return still a little stale). A view over
   * a projection waits only for the fleet's own topology changes (`changed`) unless asked
   * for `full`: the whole log as it is now.
   */
  refresh(options?: { full?: boolean }): Promise<void>;
  /** This process changed the fleet's topology (a node, region or cluster command) at `position`. */
  changed?(position: number): void;
  node(nodeId: string): PlacementNode | undefined;
  nodes(): PlacementNode[];
  region(regionId: string): RegionInfo | undefined;
  cluster(clusterId: string): ClusterInfo | undefined;
}

const CATEGORIES = ['node', 'region', 'cluster'];

/**
 * The in-memory directory: every node's state (folded with the node decider's
 * own `evolve`), regions and clusters, caught up from the event store's log on
 * each `refresh()`, reading only what is new.
 */
export function createFleetDirectory(store: EventStore): FleetDirectory & { readonly position: number } {
  const nodes = new Map<string, Node>();
  const regions = new Map<string, RegionInfo>();
  const clusters = new Map<string, ClusterInfo>();
  let position = 0;
  let refreshing: Promise<void> | null = null;

  async function catchUp(): Promise<void> {
    for (;;) {
      const page = await store.readAll({ fromPosition: position + 1, maxCount: 1000, filter: { categories: CATEGORIES } });
      for (const recorded of page) {
        position = recorded.position;
        const event = toDomainEvent(recorded);
        switch (event.type) {
          case 'RegionAdded':
            regions.set(event.data.regionId, { regionId: event.data.regionId, retired: false });
            break;
          case 'RegionRetired': {
            const region = regions.get(event.data.regionId);
            if (region) region.retired = true;
            break;
          }
          case 'ClusterJoined':
            clusters.set(event.data.clusterId, { clusterId: event.data.clusterId, regionId: event.data.regionId, healthy: true });
            break;
          case 'ClusterLeft': {
            const cluster = clusters.get(event.data.clusterId);
            if (cluster) cluster.regionId = null;
            break;
          }
          case 'ClusterHealthReported': {
            const cluster = clusters.get(event.data.clusterId);
            if (cluster) cluster.healthy = event.data.healthy;
            break;
          }
          default:
            if (recorded.streamId.startsWith('node-')) {
              const nodeId = recorded.streamId.slice('node-'.length);
              const next = evolveNode(nodes.get(nodeId) ?? null, event as NodeEvent);
              if (next) nodes.set(nodeId, next);
            }
        }
      }
      if (page.length < 1000) return;
    }
  }

  return {
    /** Reads what is new in the log; concurrent callers share one read. */
    refresh(): Promise<void> {
      refreshing ??= catchUp().finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
    node: (nodeId: string): Node | undefined => nodes.get(nodeId),
    nodes: (): Node[] => [...nodes.values()],
    region: (regionId: string): RegionInfo | undefined => regions.get(regionId),
    cluster: (clusterId: string): ClusterInfo | undefined => clusters.get(clusterId),
    get position() {
      return position;
    },
  };
}
