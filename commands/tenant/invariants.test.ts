/** Property: whatever commands arrive, in any order, usage + reservations never exceed the quota. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { reservedTotal } from '../shared/ledger.ts';
import { sum } from '../shared/resources.ts';
import type { TenantCommand } from './commands.ts';
import { tenantDecider } from './decider.ts';
import { QUOTA_DIMENSIONS, type TenantState } from './state.ts';

const metadata = { now: '2025-01-01T00:00:00Z' };
const tenantId = 't1';
const reservationId = fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5');
const vmId = fc.constantFrom('v1', 'v2', 'v3');
const amount = fc.integer({ min: 0, max: 6 });
const resources = fc.record({ vms: fc.integer({ min: 0, max: 1 }), vcpus: amount, memoryMiB: amount, diskGiB: amount });
const size = fc.record({ vcpus: fc.integer({ min: 1, max: 6 }), memoryMiB: fc.integer({ min: 1, max: 6 }), diskGiB: fc.integer({ min: 1, max: 6 }) });
const quota = fc.record({ vms: fc.integer({ min: 0, max: 3 }), vcpus: fc.integer({ min: 0, max: 12 }), memoryMiB: fc.integer({ min: 0, max: 12 }), diskGiB: fc.integer({ min: 0, max: 12 }) });

const command: fc.Arbitrary<TenantCommand> = fc.oneof(
  fc.record({ reservationId, vmId, resources }).map(({ reservationId, vmId, resources }): TenantCommand => ({
    type: 'ReserveQuota',
    data: { tenantId, reservationId, vmId, resources, expiresAt: '2025-01-01T00:15:00Z' },
    metadata,
  })),
  reservationId.map((reservationId): TenantCommand => ({ type: 'CommitQuota', data: { tenantId, reservationId }, metadata })),
  reservationId.map((reservationId): TenantCommand => ({ type: 'ReleaseQuota', data: { tenantId, reason: 'expired', reservationId }, metadata })),
  vmId.map((vmId): TenantCommand => ({ type: 'ReleaseQuota', data: { tenantId, reason: 'vm_deleted', vmId }, metadata })),
  fc.record({ vmId, size }).map(({ vmId, size }): TenantCommand => ({ type: 'ReleaseQuota', data: { tenantId, reason: 'vm_resized', vmId, size }, metadata })),
  quota.map((quota): TenantCommand => ({ type: 'ChangeTenantQuota', data: { tenantId, quota }, metadata })),
  fc.constant<TenantCommand>({ type: 'SuspendTenant', data: { tenantId }, metadata }),
  fc.constant<TenantCommand>({ type: 'ReactivateTenant', data: { tenantId }, metadata }),
);

function checkInvariants(state: TenantState) {
  if (state === null) return;
  const reserved = reservedTotal(QUOTA_DIMENSIONS, state);
  expect(state.used).toEqual(sum(QUOTA_DIMENSIONS, Object.values(state.committed).map((h) => h.resources)));
  for (const d of QUOTA_DIMENSIONS) {
    expect(state.used[d]).toBeGreaterThanOrEqual(0);
    expect(state.used[d] + reserved[d]).toBeLessThanOrEqual(state.quota[d]);
  }
}

describe('tenant invariants', () => {
  it('never over-commits the quota, whatever the order of commands', () => {
    fc.assert(
      fc.property(quota, fc.array(command, { maxLength: 60 }), (initial, commands) => {
        let state = tenantDecider.evolve(null, {
          type: 'TenantCreated',
          data: { tenantId, name: 'Acme', contactEmail: 'ops@acme.test', quota: initial, allowedRegions: ['eu-west'] },
        });
        for (const c of commands) {
          try {
            state = tenantDecider.decide(c, state).reduce(tenantDecider.evolve, state);
          } catch (error) {
            if (!isNovaCronError(error)) throw error;
          }
          checkInvariants(state);
        }
      }),
      { numRuns: 300 },
    );
  });
});
