import { describe, it } from 'vitest';
import type { QuotaResources, TenantQuota } from '../../schemas/generated/events.ts';
import { DeciderSpecification } from '../testing/specification.ts';
import type { ReleaseQuotaData, TenantCommand } from './commands.ts';
import { tenantDecider } from './decider.ts';
import type { TenantEvent } from './state.ts';

const spec = DeciderSpecification.for(tenantDecider);
const metadata = { now: '2025-01-01T00:00:00Z' };
const expiresAt = '2025-01-01T00:15:00Z';
const tenantId = 't1';
const quota: TenantQuota = { vms: 3, vcpus: 8, memoryMiB: 16384, diskGiB: 200 };
const small: QuotaResources = { vms: 1, vcpus: 2, memoryMiB: 2048, diskGiB: 20 };
/** One VM as large as the whole quota. */
const whole: QuotaResources = { ...quota, vms: 1 };

const command = {
  create: (data: Partial<Extract<TenantCommand, { type: 'CreateTenant' }>['data']> = {}): TenantCommand => ({
    type: 'CreateTenant',
    data: { tenantId, name: 'Acme', contactEmail: 'ops@acme.test', quota, allowedRegions: ['eu-west', 'eu-central'], ...data },
    metadata,
  }),
  changeQuota: (q: TenantQuota): TenantCommand => ({ type: 'ChangeTenantQuota', data: { tenantId, quota: q }, metadata }),
  suspend: (reason?: string): TenantCommand => ({ type: 'SuspendTenant', data: { tenantId, reason }, metadata }),
  reactivate: (): TenantCommand => ({ type: 'ReactivateTenant', data: { tenantId }, metadata }),
  delete: (): TenantCommand => ({ type: 'DeleteTenant', data: { tenantId }, metadata }),
  reserve: (reservationId: string, resources = small, extra: { vmId?: string; regionId?: string; expiresAt?: string } = {}): TenantCommand => ({
    type: 'ReserveQuota',
    data: { tenantId, reservationId, vmId: extra.vmId ?? `vm-of-${reservationId}`, resources, expiresAt: extra.expiresAt ?? expiresAt, regionId: extra.regionId },
    metadata,
  }),
  commit: (reservationId: string): TenantCommand => ({ type: 'CommitQuota', data: { tenantId, reservationId }, metadata }),
  release: (data: DistributiveOmit<ReleaseQuotaData, 'tenantId'>): TenantCommand => ({
    type: 'ReleaseQuota',
    data: { tenantId, ...data } as ReleaseQuotaData,
    metadata,
  }),
};
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

const event = {
  created: { type: 'TenantCreated', data: { tenantId, name: 'Acme', contactEmail: 'ops@acme.test', quota, allowedRegions: ['eu-west', 'eu-central'] } },
  suspended: { type: 'TenantSuspended', data: { tenantId, reason: null } },
  reactivated: { type: 'TenantReactivated', data: { tenantId } },
  deleted: { type: 'TenantDeleted', data: { tenantId } },
  reserved: (reservationId: string, resources = small, vmId = `vm-of-${reservationId}`): TenantEvent => ({
    type: 'QuotaReserved',
    data: { tenantId, reservationId, vmId, resources, expiresAt },
  }),
  committed: (reservationId: string, vmId = `vm-of-${reservationId}`): TenantEvent => ({ type: 'QuotaCommitted', data: { tenantId, reservationId, vmId } }),
  released: (reservationId: string, resources: QuotaResources, reason: ReleaseQuotaData['reason'], vmId = `vm-of-${reservationId}`): TenantEvent => ({
    type: 'QuotaReleased',
    data: { tenantId, reservationId, vmId, resources, reason },
  }),
} satisfies Record<string, TenantEvent | ((...args: never[]) => TenantEvent)>;

/** A VM (vm-of-r1) holding `small`, and an open reservation r2 for another. */
const busy: TenantEvent[] = [event.created, event.reserved('r1'), event.committed('r1'), event.reserved('r2')];

describe('tenant decider', () => {
  describe('when the tenant does not exist', () => {
    it('creates it', () => spec.given([]).when(command.create()).then([event.created]));

    it('creates it without a contact e-mail', () =>
      spec.given([]).when(command.create({ contactEmail: null })).then([{ ...event.created, data: { ...event.created.data, contactEmail: '' } }]));

    it('accepts a zero quota', () => {
      const zero = { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 };
      spec.given([]).when(command.create({ quota: zero })).then([{ ...event.created, data: { ...event.created.data, quota: zero } }]);
    });

    it.each([
      ['quota.vcpus', { quota: { ...quota, vcpus: -1 } }],
      ['quota.memoryMiB', { quota: { ...quota, memoryMiB: 1.5 } }],
      ['quota.diskGiB', { quota: { ...quota, diskGiB: 2 ** 31 } }],
      ['allowedRegions', { allowedRegions: [] }],
      ['allowedRegions', { allowedRegions: ['eu-west', 'eu-west'] }],
      ['contactEmail', { contactEmail: 'not-an-email' }],
      ['name', { name: '  ' }],
      ['tenantId', { tenantId: '__proto__' }],
    ])('rejects an invalid %s', (field, data) => spec.given([]).when(command.create(data)).thenThrows('NC_VALIDATION', { field }));

    it.each([
      command.changeQuota(quota),
      command.suspend(),
      command.reactivate(),
      command.delete(),
      command.reserve('r1'),
      command.commit('r1'),
      command.release({ reason: 'expired', reservationId: 'r1' }),
    ])('rejects $type as not found', (c) => spec.given([]).when(c).thenThrows('NC_NOT_FOUND', { entity: 'tenant', id: tenantId }));
  });

  describe('when the tenant is active', () => {
    it('refuses to create it again', () => spec.given([event.created]).when(command.create()).thenThrows('NC_ALREADY_EXISTS'));

    describe('ChangeTenantQuota', () => {
      const bigger = { ...quota, vcpus: 16 };
      it('changes the quota', () =>
        spec.given([event.created]).when(command.changeQuota(bigger)).then([{ type: 'TenantQuotaChanged', data: { tenantId, quota: bigger } }]));

      it('does nothing when the quota is unchanged', () => spec.given([event.created]).when(command.changeQuota(quota)).then([]));

      it('goes down to exactly usage + reservations', () => {
        const tight = { vms: 2, vcpus: 4, memoryMiB: 4096, diskGiB: 40 };
        spec.given(busy).when(command.changeQuota(tight)).then([{ type: 'TenantQuotaChanged', data: { tenantId, quota: tight } }]);
      });

      it('never goes below usage + reservations, naming the dimension', () =>
        spec
          .given(busy)
          .when(command.changeQuota({ vms: 2, vcpus: 4, memoryMiB: 4095, diskGiB: 40 }))
          .thenThrows('NC_QUOTA_EXCEEDED', { dimension: 'memoryMiB', requested: 4095, used: 2048, reserved: 2048 }));

      it('rejects a negative quota', () =>
        spec.given([event.created]).when(command.changeQuota({ ...quota, vms: -1 })).thenThrows('NC_VALIDATION', { field: 'quota.vms' }));
    });

    it('suspends it', () => spec.given([event.created]).when(command.suspend()).then([event.suspended]));

    it('suspends it with a reason', () =>
      spec.given([event.created]).when(command.suspend('unpaid')).then([{ type: 'TenantSuspended', data: { tenantId, reason: 'unpaid' } }]));

    it('refuses to reactivate it', () =>
      spec.given([event.created]).when(command.reactivate()).thenThrows('NC_INVALID_STATE', { state: 'active', allowed: ['suspended'] }));

    describe('DeleteTenant', () => {
      it('deletes a tenant that holds nothing', () => spec.given([event.created]).when(command.delete()).then([event.deleted]));

      it('deletes it once its VMs are released', () =>
        spec
          .given([event.created, event.reserved('r1'), event.committed('r1'), event.released('r1', small, 'vm_deleted')])
          .when(command.delete())
          .then([event.deleted]));

      it('refuses while a VM holds quota', () =>
        spec.given(busy.slice(0, 3)).when(command.delete()).thenThrows('NC_INVALID_STATE', { vms: 1, reservations: 0 }));

      it('refuses while a reservation is open', () =>
        spec.given([event.created, event.reserved('r1')]).when(command.delete()).thenThrows('NC_INVALID_STATE', { vms: 0, reservations: 1 }));
    });

    describe('ReserveQuota', () => {
      it('reserves quota', () => spec.given([event.created]).when(command.reserve('r1')).then([event.reserved('r1')]));

      it('reserves in an allowed region', () =>
        spec.given([event.created]).when(command.reserve('r1', small, { regionId: 'eu-central' })).then([event.reserved('r1')]));

      it('refuses a region outside the allowed regions', () =>
        spec
          .given([event.created])
          .when(command.reserve('r1', small, { regionId: 'us-east' }))
          .thenThrows('NC_REGION_NOT_ALLOWED', { regionId: 'us-east', allowedRegions: ['eu-west', 'eu-central'] }));

      it('fills the quota exactly', () =>
        spec.given([event.created]).when(command.reserve('r1', whole)).then([event.reserved('r1', whole)]));

      it.each([
        ['vms', { vms: 1, vcpus: 1, memoryMiB: 1, diskGiB: 1 }, 1, 0],
        ['vcpus', { vms: 0, vcpus: 3, memoryMiB: 1, diskGiB: 1 }, 3, 2],
        ['memoryMiB', { vms: 0, vcpus: 1, memoryMiB: 10241, diskGiB: 1 }, 10241, 10240],
        ['diskGiB', { vms: 0, vcpus: 1, memoryMiB: 1, diskGiB: 141 }, 141, 140],
      ])('counts usage and reservations: too much %s', (dimension, resources, requested, available) =>
        spec
          .given([...busy, event.reserved('r3')])
          .when(command.reserve('r4', resources))
          .thenThrows('NC_QUOTA_EXCEEDED', { dimension, requested, available }));

      it('counts released quota as free again', () =>
        spec
          .given([event.created, event.reserved('r1', whole), event.released('r1', whole, 'expired')])
          .when(command.reserve('r2', whole))
          .then([event.reserved('r2', whole)]));

      it('is a no-op when the same reservation is asked again', () =>
        spec.given([event.created, event.reserved('r1')]).when(command.reserve('r1')).then([]));

      it('refuses a reservation id already pending for something else', () =>
        spec
          .given([event.created, event.reserved('r1')])
          .when(command.reserve('r1', { ...small, vcpus: 1 }))
          .thenThrows('NC_ALREADY_EXISTS', { entity: 'quota reservation', id: 'r1' }));

      it('refuses a reservation id already committed', () =>
        spec.given(busy).when(command.reserve('r1')).thenThrows('NC_ALREADY_EXISTS', { id: 'r1' }));

      it.each([
        ['expiresAt', command.reserve('r1', small, { expiresAt: metadata.now })],
        ['expiresAt', command.reserve('r1', small, { expiresAt: 'tomorrow' })],
        ['resources.vms', command.reserve('r1', { ...small, vms: 2 })],
        ['resources.vcpus', command.reserve('r1', { ...small, vcpus: -2 })],
        ['resources', command.reserve('r1', { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 })],
        ['vmId', command.reserve('r1', small, { vmId: '' })],
      ])('rejects an invalid %s', (field, c) => spec.given([event.created]).when(c).thenThrows('NC_VALIDATION', { field }));
    });

    describe('CommitQuota', () => {
      it('commits a pending reservation', () => spec.given([event.created, event.reserved('r1')]).when(command.commit('r1')).then([event.committed('r1')]));
      it('is a no-op for an unknown reservation', () => spec.given([event.created]).when(command.commit('r9')).then([]));
      it('is a no-op for a committed reservation', () => spec.given(busy).when(command.commit('r1')).then([]));
      it('is a no-op for a released reservation', () =>
        spec.given([event.created, event.reserved('r1'), event.released('r1', small, 'expired')]).when(command.commit('r1')).then([]));
    });

    describe('ReleaseQuota', () => {
      it.each(['placement_failed', 'expired', 'compensated'] as const)('drops a pending reservation (%s)', (reason) =>
        spec.given(busy).when(command.release({ reason, reservationId: 'r2' })).then([event.released('r2', small, reason)]));

      it('is a no-op for an unknown reservation', () => spec.given(busy).when(command.release({ reason: 'expired', reservationId: 'r9' })).then([]));

      it('is a no-op for a reservation released already', () =>
        spec
          .given([...busy, event.released('r2', small, 'compensated')])
          .when(command.release({ reason: 'expired', reservationId: 'r2' }))
          .then([]));

      it('is a no-op when the sweeper comes after the commit', () =>
        spec.given(busy).when(command.release({ reason: 'expired', reservationId: 'r1' })).then([]));

      it('gives back what a deleted VM holds', () =>
        spec.given(busy).when(command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' })).then([event.released('r1', small, 'vm_deleted')]));

      it('is a no-op for a deleted VM that holds nothing', () =>
        spec
          .given([...busy, event.released('r1', small, 'vm_deleted')])
          .when(command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' }))
          .then([]));

      describe('after a resize (2 vCPU / 2048 MiB → 4 vCPU / 1024 MiB)', () => {
        const grow: QuotaResources = { vms: 0, vcpus: 2, memoryMiB: 0, diskGiB: 0 };
        const resized = [...busy, event.reserved('r5', grow, 'vm-of-r1'), event.committed('r5', 'vm-of-r1')];
        const size = { vcpus: 4, memoryMiB: 1024, diskGiB: 20 };
        const shrink = { vms: 0, vcpus: 0, memoryMiB: 1024, diskGiB: 0 };

        it('gives back what the VM holds beyond its new size', () =>
          spec
            .given(resized)
            .when(command.release({ reason: 'vm_resized', vmId: 'vm-of-r1', size }))
            .then([event.released('r1', shrink, 'vm_resized')]));

        it('is a no-op once the VM holds exactly its size', () =>
          spec
            .given([...resized, event.released('r1', shrink, 'vm_resized')])
            .when(command.release({ reason: 'vm_resized', vmId: 'vm-of-r1', size }))
            .then([]));

        it('gives back the whole new size when the VM is deleted', () =>
          spec
            .given([...resized, event.released('r1', shrink, 'vm_resized')])
            .when(command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' }))
            .then([event.released('r1', { vms: 1, vcpus: 4, memoryMiB: 1024, diskGiB: 20 }, 'vm_deleted')]));

        it('counts the resized VM against the quota', () =>
          spec
            .given([...resized, event.released('r1', shrink, 'vm_resized')])
            .when(command.reserve('r6', { vms: 0, vcpus: 3, memoryMiB: 1, diskGiB: 1 }))
            .thenThrows('NC_QUOTA_EXCEEDED', { dimension: 'vcpus', requested: 3, available: 2 }));

        it('rejects an invalid size', () =>
          spec
            .given(resized)
            .when(command.release({ reason: 'vm_resized', vmId: 'vm-of-r1', size: { ...size, vcpus: 0 } }))
            .thenThrows('NC_VALIDATION', { field: 'size.vcpus' }));
      });

      it('rejects an unknown reason', () =>
        spec
          .given(busy)
          .when(command.release({ reason: 'vm_migrated', reservationId: 'r2' } as unknown as ReleaseQuotaData))
          .thenThrows('NC_VALIDATION', { field: 'reason', value: 'vm_migrated' }));
    });
  });

  describe('when the tenant is suspended', () => {
    const suspended = [...busy, event.suspended];

    it('refuses to create it again', () => spec.given(suspended).when(command.create()).thenThrows('NC_ALREADY_EXISTS'));
    it('changes the quota', () =>
      spec.given(suspended).when(command.changeQuota({ ...quota, vms: 5 })).then([{ type: 'TenantQuotaChanged', data: { tenantId, quota: { ...quota, vms: 5 } } }]));
    it('refuses to suspend it again', () =>
      spec.given(suspended).when(command.suspend()).thenThrows('NC_INVALID_STATE', { state: 'suspended', allowed: ['active'] }));
    it('reactivates it', () => spec.given(suspended).when(command.reactivate()).then([event.reactivated]));
    it('deletes it when it holds nothing', () => spec.given([event.created, event.suspended]).when(command.delete()).then([event.deleted]));
    it('refuses to delete it while it holds quota', () => spec.given(suspended).when(command.delete()).thenThrows('NC_INVALID_STATE', { vms: 1 }));
    it('refuses to reserve quota', () => spec.given(suspended).when(command.reserve('r3')).thenThrows('NC_TENANT_SUSPENDED', { tenantId }));
    it('reserves again once reactivated', () =>
      spec.given([...suspended, event.reactivated]).when(command.reserve('r3')).then([event.reserved('r3')]));
    it('commits a reservation made before the suspension', () => spec.given(suspended).when(command.commit('r2')).then([event.committed('r2')]));
    it('releases a reservation', () =>
      spec.given(suspended).when(command.release({ reason: 'compensated', reservationId: 'r2' })).then([event.released('r2', small, 'compensated')]));
    it('gives back what a deleted VM holds', () =>
      spec.given(suspended).when(command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' })).then([event.released('r1', small, 'vm_deleted')]));
  });

  describe('when the tenant is deleted', () => {
    const deleted = [event.created, event.deleted];

    it('refuses to create it again', () => spec.given(deleted).when(command.create()).thenThrows('NC_ALREADY_EXISTS', { entity: 'tenant', id: tenantId }));
    it.each([command.changeQuota(quota), command.suspend(), command.reactivate(), command.delete(), command.reserve('r1')])(
      'refuses $type',
      (c) => spec.given(deleted).when(c).thenThrows('NC_INVALID_STATE', { state: 'deleted' }),
    );
    it.each([
      command.commit('r1'),
      command.release({ reason: 'expired', reservationId: 'r1' }),
      command.release({ reason: 'vm_deleted', vmId: 'vm-of-r1' }),
    ])('answers a late $type with no events', (c) => spec.given(deleted).when(c).then([]));
  });
});
