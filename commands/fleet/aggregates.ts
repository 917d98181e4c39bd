import type { ClusterCommand } from '../cluster/commands.ts';
import { clusterDecider } from '../cluster/decider.ts';
import type { ClusterState } from '../cluster/state.ts';
import type { Aggregate } from '../handling/handle-command.ts';
import type { NodeCommand } from '../node/commands.ts';
import { nodeDecider } from '../node/decider.ts';
import type { NodeState } from '../node/state.ts';
import type { RegionCommand } from '../region/commands.ts';
import { regionDecider } from '../region/decider.ts';
import type { RegionState } from '../region/state.ts';
import type { TenantCommand } from '../tenant/commands.ts';
import { tenantDecider } from '../tenant/decider.ts';
import type { TenantState } from '../tenant/state.ts';
import type { VmCommand } from '../vm/commands.ts';
import { vmDecider } from '../vm/decider.ts';
import type { VmState } from '../vm/state.ts';

/**
 * The five aggregates and their streams. Tenant and node streams grow with
 * every reservation, so they are snapshotted; their states hold no personal
 * data. Tenant and VM events carry their tenant in the metadata.
 */
const tenant: Aggregate<TenantCommand, TenantState> = {
  decider: tenantDecider,
  snapshot: { version: 1, every: 100 },
  tenantOf: (state, command) => state?.tenantId ?? command.data.tenantId,
};
const node: Aggregate<NodeCommand, NodeState> = { decider: nodeDecider, snapshot: { version: 1, every: 100 } };
const vm: Aggregate<VmCommand, VmState> = {
  decider: vmDecider,
  tenantOf: (state, command) => state?.tenantId ?? (command.type === 'CreateVm' ? command.data.tenantId : null),
};
const region: Aggregate<RegionCommand, RegionState> = { decider: regionDecider };
const cluster: Aggregate<ClusterCommand, ClusterState> = { decider: clusterDecider };

export const aggregates = { tenant, node, vm, region, cluster };

export const streamOf = {
  tenant: (id: string) => `tenant-${id}`,
  node: (id: string) => `node-${id}`,
  vm: (id: string) => `vm-${id}`,
  region: (id: string) => `region-${id}`,
  cluster: (id: string) => `cluster-${id}`,
};
