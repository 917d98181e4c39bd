import { afterEach, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { CAPACITY_DIMENSIONS, allocatable } from '../node/state.ts';
import { reservedTotal } from '../shared/ledger.ts';
import { aggregates, streamOf } from './aggregates.ts';
import { createRunner } from './runner.ts';
import { createReservationSweeper } from './sweeper.ts';
import { seedFleet, testFleet } from './testing.ts';

const spec = { vcpus: 1, memoryMiB: 1024, diskGiB: 10, image: 'debian-12' };
let t: ReturnType<typeof testFleet>;
afterEach(async () => t?.close());

async function nodeLedgers() {
  await t.fleet.directory.refresh();
  return t.fleet.directory.nodes();
}

describe('VM creation saga under concurrency', () => {
  for (const { quota, room, expected } of [
    { quota: 50, room: 80, expected: 50 },
    { quota: 100, room: 80, expected: 80 },
  ]) {
    it(`200 concurrent creations, quota ${quota} VMs, room for ${room}: exactly ${expected} succeed, nothing over-committed`, async () => {
      t = testFleet();
      // 4 nodes × 20 vCPUs = room for 80 one-vCPU VMs.
      const { tenantId } = await seedFleet(t, {
        nodes: 4,
        nodeVcpus: 20,
        quota: { vms: quota, vcpus: 1000, memoryMiB: 10_000_000, diskGiB: 100_000 },
      });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => t.fleet.createVm(t.context(`tenant:${tenantId}:u`), { tenantId, name: `vm${i}`, spec })),
      );
      const ok = outcomes.filter((o) => o.status === 'fulfilled');
      const codes = outcomes.flatMap((o) => (o.status === 'rejected' ? [isNovaCronError(o.reason) ? o.reason.code : String(o.reason)] : []));
      expect(ok).toHaveLength(expected);
      // Quota is reserved first: with quota short, every refusal is a quota refusal; with room short,
      // a creation is refused for quota (while others hold reservations) or for capacity.
      const allowed = quota < room ? ['NC_QUOTA_EXCEEDED'] : ['NC_QUOTA_EXCEEDED', 'NC_CAPACITY_EXHAUSTED'];
      expect(codes.filter((c) => !allowed.includes(c))).toEqual([]);
      if (quota >= room) expect(codes).toContain('NC_CAPACITY_EXHAUSTED');

      for (const node of await nodeLedgers()) {
        const limit = allocatable(node.capacity, node.overcommitRatio);
        const reserved = reservedTotal(CAPACITY_DIMENSIONS, node);
        for (const d of CAPACITY_DIMENSIONS) expect(node.used[d] + reserved[d]).toBeLessThanOrEqual(limit[d]);
        expect(Object.keys(node.reservations)).toEqual([]); // every reservation committed or released
      }
      const tenant = await t.fleet.read('tenant', tenantId);
      const state = tenant.state as { used: { vms: number }; reservations: object };
      expect(state.used.vms).toBe(expected);
      expect(Object.keys(state.reservations)).toEqual([]);
    });
  }
});

describe('reservation sweeper', () => {
  it('releases a reservation whose VM never appeared and fences the VM id', async () => {
    t = testFleet({ reservationTimeoutMs: 100 });
    const { tenantId } = await seedFleet(t);
    const runner = createRunner(t.store);
    const ctx = { ...t.context(), now: new Date(Date.now() - 60_000) };
    // A saga that reserved a minute ago, then crashed.
    await runner.run(aggregates.tenant, streamOf.tenant(tenantId), {
      type: 'ReserveQuota',
      data: { tenantId, reservationId: 'r-orphan', vmId: 'vm-never', resources: { vms: 1, vcpus: 2, memoryMiB: 2048, diskGiB: 20 }, expiresAt: new Date(Date.now() - 10_000).toISOString(), regionId: null },
      metadata: { now: ctx.now.toISOString() },
    }, ctx);
    const sweeper = createReservationSweeper({ store: t.store, runner, graceMs: 0 });
    expect(await sweeper.sweep()).toMatchObject({ released: 1, committed: 0 });
    const tenant = (await t.fleet.read('tenant', tenantId)).state as { reservations: object };
    expect(tenant.reservations).toEqual({});
    expect((await t.store.streamState(streamOf.vm('vm-never'))).status).toBe('tombstoned');
    expect(await sweeper.sweep()).toMatchObject({ released: 0, committed: 0 });
  });
});
