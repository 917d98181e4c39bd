import type { CapacityResources, NodeCapacity, VmSize } from '../../schemas/generated/events.ts';
import type { Command } from '../command.ts';

/** `overcommitRatio` defaults to 1 and lies in [1, 16]; every capacity dimension is > 0. */
export type RegisterNode = Command<
  'RegisterNode',
  { nodeId: string; regionId: string; clusterId?: string | null; capacity: NodeCapacity; overcommitRatio?: number; labels?: Record<string, string> }
>;
/** Never below what is allocated and reserved; `overcommitRatio` defaults to the current one. */
export type ChangeNodeCapacity = Command<'ChangeNodeCapacity', { nodeId: string; capacity: NodeCapacity; overcommitRatio?: number }>;
export type CordonNode = Command<'CordonNode', { nodeId: string; reason?: string | null }>;
/** Cordoned or draining → active (uncordoning a draining node cancels the drain). */
export type UncordonNode = Command<'UncordonNode', { nodeId: string }>;
/** An active node is cordoned first: [NodeCordoned, NodeDrainStarted]; a cordoned one: [NodeDrainStarted]. */
export type DrainNode = Command<'DrainNode', { nodeId: string; reason?: string | null }>;
export type MarkNodeFailed = Command<'MarkNodeFailed', { nodeId: string; reason: string }>;
/** Only when nothing is allocated or reserved. */
export type DecommissionNode = Command<'DecommissionNode', { nodeId: string }>;

/** Second step of the reservation saga (or the target side of a migration, or what grows in a resize). */
export type ReserveCapacity = Command<
  'ReserveCapacity',
  { nodeId: string; reservationId: string; vmId: string; resources: CapacityResources; expiresAt: string }
>;
/** The reservation becomes an allocation of its VM. Unknown or settled reservation: no events. */
export type CommitCapacity = Command<'CommitCapacity', { nodeId: string; reservationId: string }>;

/**
 * Gives capacity back; each form is an idempotent no-op when there is nothing to give back:
 * - placement_failed | expired | compensated: drops the pending reservation `reservationId`;
 * - vm_deleted | vm_migrated: gives back everything `vmId` holds on the node;
 * - vm_resized: gives back what `vmId` holds beyond `size` (its size after the resize).
 */
export type ReleaseCapacity = Command<'ReleaseCapacity', ReleaseCapacityData>;
export type ReleaseCapacityData =
  | { nodeId: string; reason: 'placement_failed' | 'expired' | 'compensated'; reservationId: string }
  | { nodeId: string; reason: 'vm_deleted' | 'vm_migrated'; vmId: string }
  | { nodeId: string; reason: 'vm_resized'; vmId: string; size: VmSize };

export type NodeCommand =
  | RegisterNode
  | ChangeNodeCapacity
  | CordonNode
  | UncordonNode
  | DrainNode
  | MarkNodeFailed
  | DecommissionNode
  | ReserveCapacity
  | CommitCapacity
  | ReleaseCapacity;
