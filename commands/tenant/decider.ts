import { NovaCronError } from '../../streams/errors/index.ts';
import { unknownCommand, type Decider } from '../decider.ts';
import { alreadyExists, invalidState, notFound } from '../shared/errors.ts';
import { holdingRelease, isEmpty, pendingRelease, reservationClash, reservedTotal, trimRelease, type Release } from '../shared/ledger.ts';
import { add, firstShortfall, isZero, requireAmounts, sameAmounts } from '../shared/resources.ts';
import {
  invalid,
  optionalText,
  requireEmail,
  requireId,
  requireIdList,
  requireInstant,
  requireInt,
  requireText,
  unexpected,
} from '../shared/validation.ts';
import type {
  ChangeTenantQuota,
  CommitQuota,
  CreateTenant,
  DeleteTenant,
  ReactivateTenant,
  ReleaseQuota,
  ReserveQuota,
  SuspendTenant,
  TenantCommand,
} from './commands.ts';
import { evolve, initialState, QUOTA_DIMENSIONS as DIMS, type QuotaDimension, type Tenant, type TenantEvent, type TenantState, type TenantStatus } from './state.ts';

const SIZE_DIMS = ['vcpus', 'memoryMiB', 'diskGiB'] as const;

export function decide(command: TenantCommand, state: TenantState): TenantEvent[] {
  switch (command.type) {
    case 'CreateTenant':
      return create(command, state);
    case 'ChangeTenantQuota':
      return changeQuota(command, state);
    case 'SuspendTenant':
      return suspend(command, state);
    case 'ReactivateTenant':
      return reactivate(command, state);
    case 'DeleteTenant':
      return remove(command, state);
    case 'ReserveQuota':
      return reserve(command, state);
    case 'CommitQuota':
      return commit(command, state);
    case 'ReleaseQuota':
      return release(command, state);
    default:
      return unknownCommand(command);
  }
}

export const tenantDecider: Decider<TenantCommand, TenantEvent, TenantState> = { initialState, evolve, decide };

const LIVE: readonly TenantStatus[] = ['active', 'suspended'];
const ANY: readonly TenantStatus[] = ['active', 'suspended', 'deleted'];

function tenantIn(command: TenantCommand, state: TenantState, allowed: readonly TenantStatus[]): Tenant {
  if (state === null) throw notFound('tenant', command.data.tenantId);
  if (!allowed.includes(state.status)) {
    throw invalidState({ entity: 'tenant', id: state.tenantId, command: command.type, state: state.status, allowed });
  }
  return state;
}

function create({ data }: CreateTenant, state: TenantState): TenantEvent[] {
  const tenantId = requireId('tenantId', data.tenantId);
  const name = requireText('name', data.name);
  const contactEmail = data.contactEmail === undefined || data.contactEmail === null || data.contactEmail === '' ? '' : requireEmail('contactEmail', data.contactEmail);
  const quota = requireAmounts('quota', DIMS, data.quota);
  const allowedRegions = requireIdList('allowedRegions', data.allowedRegions, { minItems: 1 });
  if (state !== null) throw alreadyExists('tenant', tenantId);
  return [{ type: 'TenantCreated', data: { tenantId, name, contactEmail, quota, allowedRegions } }];
}

function changeQuota(command: ChangeTenantQuota, state: TenantState): TenantEvent[] {
  const quota = requireAmounts('quota', DIMS, command.data.quota);
  const tenant = tenantIn(command, state, LIVE);
  if (sameAmounts(DIMS, quota, tenant.quota)) return [];
  const reserved = reservedTotal(DIMS, tenant);
  const held = add(DIMS, tenant.used, reserved);
  const dimension = DIMS.find((d) => quota[d] < held[d]);
  if (dimension !== undefined) {
    throw new NovaCronError('NC_QUOTA_EXCEEDED', `quota ${dimension} ${quota[dimension]} is below what tenant ${tenant.tenantId} holds (${held[dimension]})`, {
      details: { tenantId: tenant.tenantId, dimension, requested: quota[dimension], used: tenant.used[dimension], reserved: reserved[dimension] },
    });
  }
  return [{ type: 'TenantQuotaChanged', data: { tenantId: tenant.tenantId, quota } }];
}

function suspend(command: SuspendTenant, state: TenantState): TenantEvent[] {
  const reason = optionalText('reason', command.data.reason, { maxLength: 1000 });
  const { tenantId } = tenantIn(command, state, ['active']);
  return [{ type: 'TenantSuspended', data: { tenantId, reason } }];
}

function reactivate(command: ReactivateTenant, state: TenantState): TenantEvent[] {
  const { tenantId } = tenantIn(command, state, ['suspended']);
  return [{ type: 'TenantReactivated', data: { tenantId } }];
}

function remove(command: DeleteTenant, state: TenantState): TenantEvent[] {
  const tenant = tenantIn(command, state, LIVE);
  if (!isEmpty(tenant)) {
    const vms = Object.keys(tenant.committed).length;
    const reservations = Object.keys(tenant.reservations).length;
    throw invalidState(
      { entity: 'tenant', id: tenant.tenantId, command: command.type, state: tenant.status, allowed: LIVE, vms, reservations },
      `tenant ${tenant.tenantId} still holds ${vms} VM(s) and ${reservations} open reservation(s)`,
    );
  }
  return [{ type: 'TenantDeleted', data: { tenantId: tenant.tenantId } }];
}

function reserve(command: ReserveQuota, state: TenantState): TenantEvent[] {
  const { data, metadata } = command;
  const reservationId = requireId('reservationId', data.reservationId);
  const vmId = requireId('vmId', data.vmId);
  const resources = requireAmounts('resources', DIMS, data.resources);
  requireInt('resources.vms', resources.vms, { min: 0, max: 1 });
  if (isZero(DIMS, resources)) throw invalid('resources', 'must reserve something');
  if (requireInstant('expiresAt', data.expiresAt) <= requireInstant('metadata.now', metadata.now)) {
    throw invalid('expiresAt', 'must be after metadata.now', { now: metadata.now });
  }
  const regionId = data.regionId === undefined || data.regionId === null ? null : requireId('regionId', data.regionId);

  if (state?.status === 'suspended') {
    throw new NovaCronError('NC_TENANT_SUSPENDED', `tenant ${state.tenantId} is suspended`, { details: { tenantId: state.tenantId } });
  }
  const tenant = tenantIn(command, state, ['active']);
  const { tenantId } = tenant;
  const request = { vmId, resources, expiresAt: data.expiresAt };
  const clash = reservationClash(DIMS, tenant, reservationId, request);
  if (clash === 'same') return [];
  if (clash === 'conflict') throw alreadyExists('quota reservation', reservationId);
  if (regionId !== null && !tenant.allowedRegions.includes(regionId)) {
    throw new NovaCronError('NC_REGION_NOT_ALLOWED', `region ${regionId} is not allowed for tenant ${tenantId}`, {
      details: { tenantId, regionId, allowedRegions: tenant.allowedRegions },
    });
  }
  const shortfall = firstShortfall(DIMS, tenant.quota, add(DIMS, tenant.used, reservedTotal(DIMS, tenant)), resources);
  if (shortfall) {
    throw new NovaCronError('NC_QUOTA_EXCEEDED', `tenant ${tenantId} has ${shortfall.available} ${shortfall.dimension} left, ${shortfall.requested} requested`, {
      details: { tenantId, ...shortfall },
    });
  }
  return [{ type: 'QuotaReserved', data: { tenantId, reservationId, vmId, resources, expiresAt: data.expiresAt } }];
}

function commit(command: CommitQuota, state: TenantState): TenantEvent[] {
  const reservationId = requireId('reservationId', command.data.reservationId);
  const tenant = tenantIn(command, state, ANY);
  const pending = pendingRelease(tenant, reservationId);
  return pending ? [{ type: 'QuotaCommitted', data: { tenantId: tenant.tenantId, reservationId, vmId: pending.vmId } }] : [];
}

function release(command: ReleaseQuota, state: TenantState): TenantEvent[] {
  const tenant = tenantIn(command, state, ANY);
  const released = toRelease(command, tenant);
  if (released === null) return [];
  return [{ type: 'QuotaReleased', data: { tenantId: tenant.tenantId, ...released, reason: command.data.reason } }];
}

function toRelease({ data }: ReleaseQuota, tenant: Tenant): Release<QuotaDimension> | null {
  switch (data.reason) {
    case 'placement_failed':
    case 'expired':
    case 'compensated':
      return pendingRelease(tenant, requireId('reservationId', data.reservationId));
    case 'vm_deleted':
      return holdingRelease(tenant, requireId('vmId', data.vmId));
    case 'vm_resized': {
      const vmId = requireId('vmId', data.vmId);
      const size = requireAmounts('size', SIZE_DIMS, data.size, { min: 1 });
      return trimRelease(DIMS, tenant, vmId, { vms: 1, ...size });
    }
    default:
      return unexpected('reason', data);
  }
}
