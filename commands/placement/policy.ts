import { allocatable, CAPACITY_DIMENSIONS } from '../node/state.ts';
import { reservedTotal } from '../shared/ledger.ts';
import type { CapacityResources } from '../../schemas/generated/events.ts';
import type { FleetDirectory, PlacementNode } from './directory.ts';

/**
 * balanced: spread load — the node that is least utilized after placement first.
 * consolidated: pack — the most utilized node that still fits first (frees whole nodes).
 * performance: no overcommit first (lowest ratio), then the most free vCPUs.
 */
export const PLACEMENT_POLICIES = ['balanced', 'consolidated', 'performance'] as const;
export type PlacementPolicy = (typeof PLACEMENT_POLICIES)[number];

export interface CandidateQuery {
  regionIds: readonly string[];
  resources: CapacityResources;
  policy: PlacementPolicy;
  /** Nodes to leave out (e.g. the VM's current node when migrating). */
  exclude?: readonly string[];
}

/**
 * Scores within this of the best one count as equally good: placement spreads
 * concurrent creations over them instead of sending all to one node. (The view
 * placement ranks is a moment stale anyway; one percentage point of utilization
 * is below what it can tell apart under load.)
 */
export const EQUALLY_GOOD = 0.01;

// Nodes are immutable values (a changed node is a new object), so what is derived from one is kept beside it.
const freeByNode = new WeakMap<PlacementNode, CapacityResources>();
const limitByNode = new WeakMap<PlacementNode, CapacityResources>();

const limitOf = (node: PlacementNode): CapacityResources => {
  let limit = limitByNode.get(node);
  if (limit === undefined) limitByNode.set(node, (limit = allocatable(node.capacity, node.overcommitRatio)));
  return limit;
};

/** Free room per dimension after allocations and pending reservations. */
export function freeRoom(node: PlacementNode): CapacityResources {
  let free = freeByNode.get(node);
  if (free === undefined) {
    const limit = limitOf(node);
    const reserved = reservedTotal(CAPACITY_DIMENSIONS, node);
    free = {
      vcpus: limit.vcpus - node.used.vcpus - reserved.vcpus,
      memoryMiB: limit.memoryMiB - node.used.memoryMiB - reserved.memoryMiB,
      diskGiB: limit.diskGiB - node.used.diskGiB - reserved.diskGiB,
    };
    freeByNode.set(node, free);
  }
  return free;
}

const fits = (free: CapacityResources, want: CapacityResources) =>
  free.vcpus >= want.vcpus && free.memoryMiB >= want.memoryMiB && free.diskGiB >= want.diskGiB;

/** Utilization after placing `want`: the highest fraction across dimensions. */
function utilizationAfter(node: PlacementNode, want: CapacityResources): number {
  const limit = limitOf(node);
  const free = freeRoom(node);
  let highest = 0;
  for (const d of CAPACITY_DIMENSIONS) highest = Math.max(highest, limit[d] === 0 ? 1 : (limit[d] - free[d] + want[d]) / limit[d]);
  return highest;
}

interface Scored {
  node: PlacementNode;
  /** The policy's first key, lower is better. */
  key: number;
  /** The second key (performance only), lower is better. */
  then: number;
}

/**
 * Nodes that can take the VM, best first for the policy. Pure over the
 * directory's snapshot, but for the order among the best: the nodes whose
 * score is within EQUALLY_GOOD of the best (and, for performance, of the same
 * overcommit ratio) come first in a random order (`random`, default
 * Math.random), so N concurrent creations spread over them instead of all
 * queueing on one node's stream; the rest follow in the policy's order.
 */
export function rankCandidates(directory: FleetDirectory, query: CandidateQuery, random: () => number = Math.random): PlacementNode[] {
  return [...candidatesInOrder(directory, query, random)];
}

/**
 * rankCandidates' order, handed out lazily: the equally good come at once, the
 * rest are sorted only if a caller gets past all of them (a creation almost always
 * takes the first; sorting ~1,000 nodes per creation showed in its profile).
 * The scores and the shuffle are fixed at the first step, from the directory as
 * it is then.
 */
export function* candidatesInOrder(directory: FleetDirectory, query: CandidateQuery, random: () => number = Math.random): Generator<PlacementNode, void, undefined> {
  const regions = new Set(query.regionIds);
  const excluded = new Set(query.exclude ?? []);
  // Asked once per region and cluster, not once per node: a directory over a projection answers
  // each with a query (a profile of 1,000 nodes spent 60% of the API's time in these lookups).
  const retired = new Map<string, boolean>();
  const unhealthy = new Map<string, boolean>();
  const isRetired = (regionId: string) => {
    let answer = retired.get(regionId);
    if (answer === undefined) retired.set(regionId, (answer = directory.region(regionId)?.retired ?? true));
    return answer;
  };
  const isUnhealthy = (clusterId: string) => {
    let answer = unhealthy.get(clusterId);
    if (answer === undefined) unhealthy.set(clusterId, (answer = directory.cluster(clusterId)?.healthy === false));
    return answer;
  };
  const scored: Scored[] = [];
  for (const node of directory.nodes()) {
    if (node.status !== 'active' || excluded.has(node.nodeId) || !regions.has(node.regionId)) continue;
    if (isRetired(node.regionId)) continue;
    if (node.clusterId !== null && isUnhealthy(node.clusterId)) continue;
    if (!fits(freeRoom(node), query.resources)) continue;
    scored.push(score(node, query));
  }
  if (scored.length === 0) return;
  const byId = (a: PlacementNode, b: PlacementNode) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);
  const order = (a: Scored, b: Scored) => a.key - b.key || a.then - b.then || byId(a.node, b.node);
  let best = scored[0] as Scored;
  for (const s of scored) if (order(s, best) < 0) best = s;
  const tolerance = query.policy === 'performance' ? 0 : EQUALLY_GOOD;
  const tie = query.policy === 'performance' ? Math.abs(best.then) * EQUALLY_GOOD : 0;
  const equallyGood = (s: Scored) => s.key - best.key <= tolerance && s.then - best.then <= tie;
  const first: PlacementNode[] = [];
  const rest: Scored[] = [];
  for (const s of scored) {
    if (equallyGood(s)) first.push(s.node);
    else rest.push(s);
  }
  // Fisher-Yates over the equally good.
  for (let i = first.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [first[i], first[j]] = [first[j] as PlacementNode, first[i] as PlacementNode];
  }
  yield* first;
  rest.sort(order);
  for (const s of rest) yield s.node;
}

function score(node: PlacementNode, query: CandidateQuery): Scored {
  switch (query.policy) {
    case 'balanced':
      return { node, key: utilizationAfter(node, query.resources), then: 0 };
    case 'consolidated':
      return { node, key: -utilizationAfter(node, query.resources), then: 0 };
    case 'performance':
      return { node, key: node.overcommitRatio, then: -freeRoom(node).vcpus };
    default: {
      const never: never = query.policy;
      throw new Error(`unknown placement policy ${String(never)}`);
    }
  }
}
