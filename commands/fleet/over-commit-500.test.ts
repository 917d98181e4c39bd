// 500 concurrent creations over 20 tenants and 10 nodes, with quota for 400 and room
// for 300: exactly 300 succeed (some creation is refused for room, so every node ends
// full), no tenant past its quota, no node past its room, every refusal a quota or a
// capacity refusal, and no reservation left behind.
import { afterEach, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { CAPACITY_DIMENSIONS, allocatable } from '../node/state.ts';
import { seedFleet, testFleet } from './testing.ts';

let t: ReturnType<typeof testFleet>;
afterEach(async () => t?.close());

describe('over-commit under 500 concurrent creations', () => {
  it('20 tenants × 25 creations, quota 20 each, 10 nodes × 30 vCPUs: exactly 300 VMs', { timeout: 120_000 }, async () => {
    t = testFleet();
    const quota = { vms: 20, vcpus: 1000, memoryMiB: 10_000_000, diskGiB: 100_000 };
    await seedFleet(t, { nodes: 10, nodeVcpus: 30, nodeMemoryMiB: 1_000_000, nodeDiskGiB: 100_000, quota, tenantId: 't0' });
    const tenants = Array.from({ length: 20 }, (_, i) => `t${i}`);
    for (const tenantId of tenants.slice(1)) {
      await t.fleet.createTenant(t.context(), { tenantId, name: tenantId, quota, allowedRegions: ['eu-west'] });
    }
    const spec = { vcpus: 1, memoryMiB: 1024, diskGiB: 10, image: 'debian-12' };
    const requests = Array.from({ length: 500 }, (_, i) => tenants[i % 20] as string);
    const outcomes = await Promise.allSettled(requests.map((tenantId, i) => t.fleet.createVm(t.context(`tenant:${tenantId}:u`), { tenantId, name: `vm${i}`, spec })));

    const codes = outcomes.flatMap((o) => (o.status === 'rejected' ? [isNovaCronError(o.reason) ? o.reason.code : String(o.reason)] : []));
    expect(codes.filter((c) => c !== 'NC_QUOTA_EXCEEDED' && c !== 'NC_CAPACITY_EXHAUSTED')).toEqual([]);
    expect(codes).toContain('NC_CAPACITY_EXHAUSTED');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(300);

    await t.fleet.directory.refresh();
    let placed = 0;
    for (const node of t.fleet.directory.nodes()) {
      const limit = allocatable(node.capacity, node.overcommitRatio);
      for (const d of CAPACITY_DIMENSIONS) expect(node.used[d]).toBeLessThanOrEqual(limit[d]);
      expect(node.used.vcpus).toBe(30);
      expect(Object.keys(node.reservations)).toEqual([]);
      placed += node.used.vcpus;
    }
    expect(placed).toBe(300);
    let used = 0;
    for (const tenantId of tenants) {
      const state = (await t.fleet.read('tenant', tenantId)).state as { used: { vms: number }; reservations: object };
      expect(state.used.vms).toBeLessThanOrEqual(20);
      expect(Object.keys(state.reservations)).toEqual([]);
      used += state.used.vms;
    }
    expect(used).toBe(300);
  });
});
