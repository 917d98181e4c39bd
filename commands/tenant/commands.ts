import type { QuotaResources, TenantQuota, VmSize } from '../../schemas/generated/events.ts';
import type { Command } from '../command.ts';

export type CreateTenant = Command<
  'CreateTenant',
  { tenantId: string; name: string; /** Optional; '' or absent when none is given. */ contactEmail?: string | null; quota: TenantQuota; allowedRegions: string[] }
>;
/** Replaces the quota; never below usage + pending reservations. */
export type ChangeTenantQuota = Command<'ChangeTenantQuota', { tenantId: string; quota: TenantQuota }>;
export type SuspendTenant = Command<'SuspendTenant', { tenantId: string; reason?: string | null }>;
export type ReactivateTenant = Command<'ReactivateTenant', { tenantId: string }>;
/** Only once no VM holds quota and no reservation is open. */
export type DeleteTenant = Command<'DeleteTenant', { tenantId: string }>;

/**
 * First step of the reservation saga. `resources.vms` is 1 for a VM being
 * created and 0 for a resize (which reserves only what grows). `regionId`,
 * when given, must be one of the tenant's allowed regions.
 */
export type ReserveQuota = Command<
  'ReserveQuota',
  { tenantId: string; reservationId: string; vmId: string; resources: QuotaResources; expiresAt: string; regionId?: string | null }
>;
/** The reservation becomes usage of its VM. Unknown or settled reservation: no events. */
export type CommitQuota = Command<'CommitQuota', { tenantId: string; reservationId: string }>;

/**
 * Gives quota back; each form is an idempotent no-op when there is nothing to give back:
 * - placement_failed | expired | compensated: drops the pending reservation `reservationId`;
 * - vm_deleted: gives back everything `vmId` holds;
 * - vm_resized: gives back what `vmId` holds beyond 1 VM and `size` (its size after the resize).
 */
export type ReleaseQuota = Command<'ReleaseQuota', ReleaseQuotaData>;
export type ReleaseQuotaData =
  | { tenantId: string; reason: 'placement_failed' | 'expired' | 'compensated'; reservationId: string }
  | { tenantId: string; reason: 'vm_deleted'; vmId: string }
  | { tenantId: string; reason: 'vm_resized'; vmId: string; size: VmSize };

export type TenantCommand =
  | CreateTenant
  | ChangeTenantQuota
  | SuspendTenant
  | ReactivateTenant
  | DeleteTenant
  | ReserveQuota
  | CommitQuota
  | ReleaseQuota;
