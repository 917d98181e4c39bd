import { clusterDecider } from '../cluster/decider.ts';
import type { Aggregate } from '../handling/handle-command.ts';
import { nodeDecider } from '../node/decider.ts';
import { regionDecider } from '../region/decider.ts';
import { tenantDecider } from '../tenant/decider.ts';
import { vmDecider } from '../vm/decider.ts';

/**
 * The five aggregates and their streams. Tenant and node streams grow with
 * every reservation, so they are snapshotted; their states hold no personal data.
 */
export const aggregates = {
  tenant: { decider: tenantDecider, snapshot: { version: 1, every: 100 } },
  node: { decider: nodeDecider, snapshot: { version: 1, every: 100 } },
  vm: { decider: vmDecider },
  region: { decider: regionDecider },
  cluster: { decider: clusterDecider },
} satisfies Record<string, Aggregate<never, unknown>>;

export const streamOf = {
  tenant: (id: string) => `tenant-${id}`,
  node: (id: string) => `node-${id}`,
  vm: (id: string) => `vm-${id}`,
  region: (id: string) => `region-${id}`,
  cluster: (id: string) => `cluster-${id}`,
};
