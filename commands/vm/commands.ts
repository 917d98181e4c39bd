import type { VmMigrationKind, VmSize, VmSpec } from '../../schemas/generated/events.ts';
import type { Command } from '../command.ts';

/**
 * Last step of the reservation saga: records the VM on the node that reserved
 * capacity for it. `start: true` starts it at once; otherwise it is stopped.
 */
export type CreateVm = Command<
  'CreateVm',
  {
    vmId: string;
    tenantId: string;
    name: string;
    spec: VmSpec;
    regionId: string;
    clusterId?: string | null;
    nodeId: string;
    quotaReservationId: string;
    capacityReservationId: string;
    sshPublicKeys?: string[];
    userData?: string | null;
    labels?: Record<string, string>;
    start?: boolean;
  }
>;
export type StartVm = Command<'StartVm', { vmId: string }>;
export type StopVm = Command<'StopVm', { vmId: string; reason?: string | null }>;
export type RestartVm = Command<'RestartVm', { vmId: string }>;
export type PauseVm = Command<'PauseVm', { vmId: string }>;
export type ResumeVm = Command<'ResumeVm', { vmId: string }>;
/** Only when stopped; the disk never shrinks; the same size again is a no-op. */
export type ResizeVm = Command<
  'ResizeVm',
  {
    vmId: string;
    size: VmSize;
    /** Reservations made for what grows (recorded in VmResized so the sweeper can settle them). */
    quotaReservationId?: string | null;
    capacityReservationId?: string | null;
  }
>;
/** live and warm from running, cold from stopped; capacity is already reserved on the target node. */
export type MigrateVm = Command<
  'MigrateVm',
  { vmId: string; migrationId: string; kind: VmMigrationKind; targetNodeId: string; targetRegionId: string; capacityReservationId: string }
>;
export type CompleteVmMigration = Command<'CompleteVmMigration', { vmId: string; migrationId: string }>;
export type FailVmMigration = Command<'FailVmMigration', { vmId: string; migrationId: string; reason: string }>;
export type SnapshotVm = Command<'SnapshotVm', { vmId: string; snapshotId: string; name: string }>;
/** A running or paused VM is stopped first (VmStopped, then VmDeleted). */
export type DeleteVm = Command<'DeleteVm', { vmId: string }>;
/** Any VM not deleted; a VM already failed stays as it is (no events). */
export type FailVm = Command<'FailVm', { vmId: string; reason: string }>;

export type VmCommand =
  | CreateVm
  | StartVm
  | StopVm
  | RestartVm
  | PauseVm
  | ResumeVm
  | ResizeVm
  | MigrateVm
  | CompleteVmMigration
  | FailVmMigration
  | SnapshotVm
  | DeleteVm
  | FailVm;
