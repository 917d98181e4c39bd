import { afterEach, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { createAggregateCache } from '../../streams/eventstore/index.ts';
import { CAPACITY_DIMENSIONS, allocatable } from '../node/state.ts';
import { reservedTotal } from '../shared/ledger.ts';
import { aggregates, streamOf } from './aggregates.ts';
import { createRunner } from './runner.ts';
import { createFleetService } from './service.ts';
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

describe('two fleet services on one store (two API processes: own aggregate caches, own stream locks)', () => {
  it('200 concurrent creations split between them: exactly the quota succeeds, and cached states equal fresh folds', async () => {
    t = testFleet();
    const { tenantId } = await seedFleet(t, { nodes: 4, nodeVcpus: 20, quota: { vms: 50, vcpus: 1000, memoryMiB: 10_000_000, diskGiB: 100_000 } });
    const other = createFleetService({ store: t.store, destroyTenantKey: (id) => t.keys.destroyDataKey(id) });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? t.fleet : other).createVm(t.context(`tenant:${tenantId}:u`), { tenantId, name: `vm${i}`, spec })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(50);
    const uncached = createRunner(t.store, {}, createAggregateCache());
    const fresh = await uncached.read(aggregates.tenant, streamOf.tenant(tenantId));
    for (const service of [t.fleet, other]) {
      const seen = await service.read('tenant', tenantId);
      expect(seen).toEqual(fresh);
    }
    expect((fresh.state as { used: { vms: number } }).used.vms).toBe(50);
  });
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

describe('VM lifecycle across aggregates', () => {
  it('resize, migrate and delete keep the tenant and node ledgers equal to what the VM holds', async () => {
    t = testFleet();
    const { tenantId } = await seedFleet(t, { nodes: 2 });
    const ctx = () => t.context(`tenant:${tenantId}:u`);
    const created = await t.fleet.createVm(ctx(), { tenantId, name: 'web', spec: { vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12' } });
    const vmId = created.vm.vmId;
    const ledgers = async () => {
      const tenant = (await t.fleet.read('tenant', tenantId)).state as { used: Record<string, number>; reservations: object };
      await t.fleet.directory.refresh();
      const nodes = t.fleet.directory.nodes().map((n) => ({ nodeId: n.nodeId, used: n.used, reservations: n.reservations }));
      return { tenant, nodes };
    };
    let l = await ledgers();
    expect(l.tenant.used).toEqual({ vms: 1, vcpus: 2, memoryMiB: 2048, diskGiB: 20 });

    const resized = await t.fleet.vms.resize(ctx(), vmId, { vcpus: 4, memoryMiB: 1024, diskGiB: 30 });
    expect(resized.vm.spec).toMatchObject({ vcpus: 4, memoryMiB: 1024, diskGiB: 30 });
    l = await ledgers();
    expect(l.tenant.used).toEqual({ vms: 1, vcpus: 4, memoryMiB: 1024, diskGiB: 30 });
    expect(l.tenant.reservations).toEqual({});
    expect(l.nodes.find((n) => n.nodeId === created.vm.nodeId)?.used).toEqual({ vcpus: 4, memoryMiB: 1024, diskGiB: 30 });

    await t.fleet.startVm(ctx(), vmId);
    const migrated = await t.fleet.migrateVm(ctx(), vmId, { kind: 'live' });
    expect(migrated.vm.state).toBe('running');
    expect(migrated.vm.nodeId).not.toBe(created.vm.nodeId);
    l = await ledgers();
    expect(l.nodes.find((n) => n.nodeId === created.vm.nodeId)?.used).toEqual({ vcpus: 0, memoryMiB: 0, diskGiB: 0 });
    expect(l.nodes.find((n) => n.nodeId === migrated.vm.nodeId)?.used).toEqual({ vcpus: 4, memoryMiB: 1024, diskGiB: 30 });

    const deleted = await t.fleet.vms.remove(ctx(), vmId);
    expect(deleted.vm.state).toBe('deleted');
    l = await ledgers();
    expect(l.tenant.used).toEqual({ vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 });
    for (const node of l.nodes) expect(node.used).toEqual({ vcpus: 0, memoryMiB: 0, diskGiB: 0 });
  });

  it('a resize the node cannot hold is refused and gives the quota reservation back', async () => {
    t = testFleet();
    const { tenantId } = await seedFleet(t, { nodes: 1, nodeVcpus: 4 });
    const created = await t.fleet.createVm(t.context(), { tenantId, name: 'db', spec: { vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12' } });
    await expect(t.fleet.vms.resize(t.context(), created.vm.vmId, { vcpus: 8 })).rejects.toMatchObject({ code: 'NC_CAPACITY_EXHAUSTED' });
    const tenant = (await t.fleet.read('tenant', tenantId)).state as { used: Record<string, number>; reservations: object };
    expect(tenant.reservations).toEqual({});
    expect(tenant.used.vcpus).toBe(2);
  });

  it('a suspended tenant cannot start a VM', async () => {
    t = testFleet();
    const { tenantId } = await seedFleet(t);
    const created = await t.fleet.createVm(t.context(), { tenantId, name: 'x', spec });
    await t.fleet.execute('tenant', tenantId, { type: 'SuspendTenant', data: { tenantId, reason: 'unpaid' } }, t.context());
    await expect(t.fleet.startVm(t.context(), created.vm.vmId)).rejects.toMatchObject({ code: 'NC_TENANT_SUSPENDED' });
  });

  it('failing a node fails its VMs; deleting a tenant shreds its personal data', async () => {
    t = testFleet();
    const { tenantId } = await seedFleet(t);
    const created = await t.fleet.createVm(t.context(), { tenantId, name: 'x', spec, sshPublicKeys: ['ssh-ed25519 AAAA test'] });
    const failed = await t.fleet.failNode(t.context(), created.vm.nodeId, 'power');
    expect(failed.vmIds).toEqual([created.vm.vmId]);
    expect(((await t.fleet.read('vm', created.vm.vmId)).state as { state: string }).state).toBe('failed');

    await t.fleet.vms.remove(t.context(), created.vm.vmId);
    const [vmCreated] = await t.store.readStream(streamOf.vm(created.vm.vmId));
    expect(vmCreated?.data.sshPublicKeys).toEqual(['ssh-ed25519 AAAA test']);
    await t.fleet.deleteTenant(t.context(), tenantId);
    const [shredded] = await t.store.readStream(streamOf.vm(created.vm.vmId));
    expect(shredded?.data.sshPublicKeys).toEqual(['[redacted]']);
  });
});

describe('sweeper after a crash mid-saga', () => {
  it('commits reservations whose VM was recorded before the commit step', async () => {
    t = testFleet({ reservationTimeoutMs: 100 });
    const { tenantId } = await seedFleet(t);
    const runner = createRunner(t.store);
    const ctx = { ...t.context(), now: new Date(Date.now() - 60_000) };
    const meta = { now: ctx.now.toISOString() };
    const expiresAt = new Date(Date.now() - 30_000).toISOString();
    // Steps 1-3 of the saga, then a crash before the commits.
    await runner.run(aggregates.tenant, streamOf.tenant(tenantId), {
      type: 'ReserveQuota',
      data: { tenantId, reservationId: 'q1', vmId: 'v1', resources: { vms: 1, vcpus: 1, memoryMiB: 1024, diskGiB: 10 }, expiresAt, regionId: null },
      metadata: meta,
    }, ctx);
    await runner.run(aggregates.node, streamOf.node('eu-west-n0'), {
      type: 'ReserveCapacity',
      data: { nodeId: 'eu-west-n0', reservationId: 'c1', vmId: 'v1', resources: { vcpus: 1, memoryMiB: 1024, diskGiB: 10 }, expiresAt },
      metadata: meta,
    }, ctx);
    await runner.run(aggregates.vm, streamOf.vm('v1'), {
      type: 'CreateVm',
      data: { vmId: 'v1', tenantId, name: 'v1', spec, regionId: 'eu-west', nodeId: 'eu-west-n0', quotaReservationId: 'q1', capacityReservationId: 'c1' },
      metadata: meta,
    }, ctx, tenantId);
    const sweeper = createReservationSweeper({ store: t.store, runner, graceMs: 0 });
    expect(await sweeper.sweep()).toMatchObject({ committed: 2, released: 0 });
    const tenant = (await t.fleet.read('tenant', tenantId)).state as { used: Record<string, number>; reservations: object };
    expect(tenant.used.vms).toBe(1);
    expect(tenant.reservations).toEqual({});
  });
});

describe('event ownership', () => {
  it('every tenant and VM event carries its tenant in the metadata, node events none', async () => {
    t = testFleet();
    const { tenantId } = await seedFleet(t);
    const created = await t.fleet.createVm(t.context(), { tenantId, name: 'x', spec });
    await t.fleet.failNode(t.context(), created.vm.nodeId, 'power');
    await t.fleet.execute('tenant', tenantId, { type: 'SuspendTenant', data: { tenantId, reason: null } }, t.context());
    const all = await t.store.readAll({ maxCount: 10_000 });
    const owned = all.filter((e) => e.streamId.startsWith('tenant-') || e.streamId.startsWith('vm-'));
    expect(owned.map((e) => e.type)).toEqual(expect.arrayContaining(['QuotaReserved', 'QuotaCommitted', 'VmCreated', 'VmFailed', 'TenantSuspended']));
    expect(owned.filter((e) => e.metadata.tenantId !== tenantId)).toEqual([]);
    expect(all.filter((e) => e.streamId.startsWith('node-') && e.metadata.tenantId !== null)).toEqual([]);
  });
});
