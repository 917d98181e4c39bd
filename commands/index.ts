/** The write side: one pure decider per aggregate, its commands, events and state. */
export type { Command, CommandMetadata } from './command.ts';
export type { Decider, DomainEvent } from './decider.ts';

export { tenantDecider } from './tenant/decider.ts';
export type * from './tenant/commands.ts';
export { QUOTA_DIMENSIONS, type QuotaDimension, type Tenant, type TenantEvent, type TenantState, type TenantStatus } from './tenant/state.ts';

export { vmDecider } from './vm/decider.ts';
export type * from './vm/commands.ts';
export { VM_LIMITS } from './vm/limits.ts';
export type { PendingMigration, Vm, VmEvent, VmLifecycle, VmState } from './vm/state.ts';

export { nodeDecider, OVERCOMMIT_RATIO } from './node/decider.ts';
export type * from './node/commands.ts';
export { allocatable, CAPACITY_DIMENSIONS, type CapacityDimension, type Node, type NodeEvent, type NodeState, type NodeStatus } from './node/state.ts';

export { regionDecider, REGION_SHARDS } from './region/decider.ts';
export type * from './region/commands.ts';
export { canPlace, type Region, type RegionEvent, type RegionState, type RegionStatus } from './region/state.ts';

export { clusterDecider } from './cluster/decider.ts';
export type * from './cluster/commands.ts';
export type { Cluster, ClusterEvent, ClusterState, ClusterStatus } from './cluster/state.ts';

export type { Ledger, PendingReservation, Holding } from './shared/ledger.ts';
