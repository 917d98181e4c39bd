import { describe, expect, it } from 'vitest';
import {
  given,
  quotaCommitted,
  quotaReleased,
  quotaReserved,
  tenantCreated,
  tenantDeleted,
  tenantQuotaChanged,
  tenantReactivated,
  tenantSuspended,
} from './testing.ts';

const none = { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 };
const one = { vms: 1, vcpus: 2, memoryMiB: 2048, diskGiB: 20 };

describe('inventory: a tenant', () => {
  describe('that does not exist', () => {
    it('TenantCreated: active, its quota and allowed regions, nothing used or reserved (no personal data kept)', () =>
      given()
        .when(tenantCreated('acme', { allowedRegions: ['eu-west', 'eu-central'] }))
        .then((q, [created]) => {
          const tenant = q.getTenant('acme');
          expect(tenant).toEqual({
            tenantId: 'acme',
            name: 'acme',
            status: 'active',
            allowedRegions: ['eu-west', 'eu-central'],
            quota: { vms: 10, vcpus: 40, memoryMiB: 65_536, diskGiB: 1000 },
            usage: none,
            reserved: none,
            reservations: 0,
            createdRevision: 0,
            createdPosition: created?.position,
            createdAt: created?.metadata.occurredAt,
            revision: 0,
            position: created?.position,
            updatedAt: created?.metadata.occurredAt,
          });
          expect(JSON.stringify(tenant)).not.toContain('ops@acme.example');
        }));
    it('quota events for it change nothing', () =>
      given()
        .when(quotaReserved('ghost', 'r1', 'v1'), quotaCommitted('ghost', 'r1', 'v1'))
        .then((q) => expect(q.getTenant('ghost')).toBeNull()));
  });

  describe('that is active', () => {
    it('TenantQuotaChanged: the new quota', () =>
      given(tenantCreated('acme'))
        .when(tenantQuotaChanged('acme', { vms: 3, vcpus: 6, memoryMiB: 4096, diskGiB: 60 }))
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ quota: { vms: 3, vcpus: 6, memoryMiB: 4096, diskGiB: 60 }, revision: 1 })));
    it('TenantSuspended: suspended', () => given(tenantCreated('acme')).when(tenantSuspended('acme')).then((q) => expect(q.getTenant('acme')?.status).toBe('suspended')));
    it('TenantDeleted: deleted, still listed', () =>
      given(tenantCreated('acme'))
        .when(tenantDeleted('acme'))
        .then((q) => {
          expect(q.getTenant('acme')?.status).toBe('deleted');
          expect(q.listTenants({ status: 'deleted' }).items.map((t) => t.tenantId)).toEqual(['acme']);
        }));
    it('QuotaReserved: reserved, not used', () =>
      given(tenantCreated('acme'))
        .when(quotaReserved('acme', 'r1', 'v1'))
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ usage: none, reserved: one, reservations: 1 })));
    it('QuotaReserved again with the same id replaces the reservation', () =>
      given(tenantCreated('acme'), quotaReserved('acme', 'r1', 'v1'))
        .when(quotaReserved('acme', 'r1', 'v1', { vms: 1, vcpus: 4, memoryMiB: 2048, diskGiB: 20 }))
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ reserved: { vms: 1, vcpus: 4, memoryMiB: 2048, diskGiB: 20 }, reservations: 1 })));
  });

  describe('that is suspended', () => {
    it('TenantReactivated: active', () =>
      given(tenantCreated('acme'), tenantSuspended('acme'))
        .when(tenantReactivated('acme'))
        .then((q) => expect(q.getTenant('acme')?.status).toBe('active')));
  });

  describe('with a pending reservation', () => {
    const history = [tenantCreated('acme'), quotaReserved('acme', 'r1', 'v1')];
    it('QuotaCommitted: the reservation becomes usage', () =>
      given(...history)
        .when(quotaCommitted('acme', 'r1', 'v1'))
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ usage: one, reserved: none, reservations: 0 })));
    it('QuotaCommitted of an unknown reservation changes nothing but the revision', () =>
      given(...history)
        .when(quotaCommitted('acme', 'nope', 'v9'))
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ usage: none, reserved: one, reservations: 1, revision: 2 })));
    it('QuotaReleased (compensated): the reservation is dropped', () =>
      given(...history)
        .when(quotaReleased('acme', 'r1', 'v1', 'compensated'))
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ usage: none, reserved: none, reservations: 0 })));
  });

  describe('with a VM committed', () => {
    const history = [tenantCreated('acme'), quotaReserved('acme', 'r1', 'v1'), quotaCommitted('acme', 'r1', 'v1')];
    it('a resize: reserve and commit what grows, then release the old size from the holding', () =>
      given(...history)
        .when(
          quotaReserved('acme', 'r2', 'v1', { vms: 0, vcpus: 2, memoryMiB: 0, diskGiB: 20 }),
          quotaCommitted('acme', 'r2', 'v1'),
          quotaReleased('acme', 'r1', 'v1', 'vm_resized', { vms: 0, vcpus: 0, memoryMiB: 1024, diskGiB: 0 }),
        )
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ usage: { vms: 1, vcpus: 4, memoryMiB: 1024, diskGiB: 40 }, reserved: none })));
    it('QuotaReleased (vm_deleted): everything it held is given back', () =>
      given(...history)
        .when(quotaReleased('acme', 'r1', 'v1', 'vm_deleted'))
        .then((q) => expect(q.getTenant('acme')).toMatchObject({ usage: none, reserved: none, reservations: 0 })));
    it('QuotaReleased for a VM it does not hold changes nothing', () =>
      given(...history)
        .when(quotaReleased('acme', 'r9', 'v9', 'vm_deleted'))
        .then((q) => expect(q.getTenant('acme')?.usage).toEqual(one)));
  });
});
