import type { Command } from '../command.ts';

/** A cluster joins one region; joining the region it is in again is a no-op, joining another while joined is refused. */
export type JoinCluster = Command<'JoinCluster', { clusterId: string; regionId: string }>;
/** Leaves the region it is in; it may join one (any) later. */
export type LeaveCluster = Command<'LeaveCluster', { clusterId: string }>;
/** Only while joined; `healthy: false` takes the cluster out of routing. */
export type ReportClusterHealth = Command<'ReportClusterHealth', { clusterId: string; healthy: boolean; detail?: string | null }>;

export type ClusterCommand = JoinCluster | LeaveCluster | ReportClusterHealth;
