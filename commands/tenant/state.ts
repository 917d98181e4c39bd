import type { TenantQuota } from '../../schemas/generated/events.ts';
import { ignoreEvent, type DomainEvent } from '../decider.ts';
import { foldCommitted, foldReleased, foldReserved, type Ledger } from '../shared/ledger.ts';
import { pick, zero } from '../shared/resources.ts';

export const QUOTA_DIMENSIONS = ['vms', 'vcpus', 'memoryMiB', 'diskGiB'] as const satisfies readonly (keyof TenantQuota)[];
export type QuotaDimension = (typeof QUOTA_DIMENSIONS)[number];

export type TenantStatus = 'active' | 'suspended' | 'deleted';

export type TenantEvent = DomainEvent<
  | 'TenantCreated'
  | 'TenantQuotaChanged'
  | 'TenantSuspended'
  | 'TenantReactivated'
  | 'TenantDeleted'
  | 'QuotaReserved'
  | 'QuotaCommitted'
  | 'QuotaReleased'
>;

/**
 * A tenant: quota, and the ledger of what its VMs use (`used`, `committed` per
 * VM) and what is reserved (`reservations`, by id). No personal data (the
 * contact e-mail stays in the event), so the state can be snapshotted.
 */
export interface Tenant extends Ledger<QuotaDimension> {
  tenantId: string;
  name: string;
  status: TenantStatus;
  quota: TenantQuota;
  allowedRegions: string[];
}

/** null: the tenant does not exist. */
export type TenantState = Tenant | null;

export const initialState = (): TenantState => null;

export function evolve(state: TenantState, event: TenantEvent): TenantState {
  if (event.type === 'TenantCreated') {
    const { tenantId, name, quota, allowedRegions } = event.data;
    return {
      tenantId,
      name,
      status: 'active',
      quota: pick(QUOTA_DIMENSIONS, quota),
      allowedRegions: [...allowedRegions],
      reservations: {},
      committed: {},
      used: zero(QUOTA_DIMENSIONS),
    };
  }
  if (state === null) return state;
  switch (event.type) {
    case 'TenantQuotaChanged':
      return { ...state, quota: pick(QUOTA_DIMENSIONS, event.data.quota) };
    case 'TenantSuspended':
      return { ...state, status: 'suspended' };
    case 'TenantReactivated':
      return { ...state, status: 'active' };
    case 'TenantDeleted':
      return { ...state, status: 'deleted' };
    case 'QuotaReserved': {
      const { reservationId, vmId, resources, expiresAt } = event.data;
      return { ...state, ...foldReserved(state, reservationId, { vmId, resources: pick(QUOTA_DIMENSIONS, resources), expiresAt }) };
    }
    case 'QuotaCommitted':
      return { ...state, ...foldCommitted(QUOTA_DIMENSIONS, state, event.data.reservationId) };
    case 'QuotaReleased': {
      const { reservationId, vmId, resources } = event.data;
      return { ...state, ...foldReleased(QUOTA_DIMENSIONS, state, { reservationId, vmId, resources: pick(QUOTA_DIMENSIONS, resources) }) };
    }
    default:
      return ignoreEvent(event, state);
  }
}
