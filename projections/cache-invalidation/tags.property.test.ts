/**
 * The tag scheme is sound: over random histories of fleet activity, whenever
 * an event changes the answer of an inventory query, the event publishes a tag
 * the answer (as it was) carries, so a cached answer is never kept stale.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../capacity-forecast/model/prng.ts';
import type { InventoryQueries, VmFilter } from '../inventory/queries.ts';
import * as ev from '../inventory/testing.ts';
import type { Given, Inventory } from '../inventory/testing.ts';
import type { VmLifecycle } from '../inventory/types.ts';
import { inventoryQueryTags } from './query-tags.ts';
import { tagsOf, type CatalogEvent } from './tags.ts';

const REGIONS = ['r1', 'r2'];
const NODES: Record<string, string> = { n1: 'r1', n2: 'r1', n3: 'r2', n4: 'r2' };
const TENANTS = ['t1', 't2'];
const STATES: VmLifecycle[] = ['stopped', 'running', 'paused', 'migrating', 'failed', 'deleted'];

interface SimVm {
  tenantId: string;
  nodeId: string;
  state: VmLifecycle;
  migration: { id: string; target: string; resumeAs: 'running' | 'stopped' } | null;
  size: { vcpus: number; memoryMiB: number; diskGiB: number };
}

/** The queries whose answers the API caches, each with the tags its answer carries. */
function queries(): Array<{ name: string; run: (q: InventoryQueries) => unknown; tags: (answer: unknown) => string[] }> {
  const list: Array<{ name: string; run: (q: InventoryQueries) => unknown; tags: (answer: unknown) => string[] }> = [];
  const vmIdsOf = (answer: unknown) => (answer as { items: Array<{ vmId: string }> }).items.map((v) => v.vmId);
  const filters: Array<Omit<VmFilter, 'cursor' | 'limit'>> = [{}];
  for (const tenantId of TENANTS) filters.push({ tenantId });
  for (const nodeId of Object.keys(NODES)) filters.push({ nodeId });
  for (const regionId of REGIONS) filters.push({ regionId });
  for (const state of STATES) filters.push({ state }, { tenantId: 't1', state }, { regionId: 'r2', state }, { nodeId: 'n3', state });
  for (const filter of filters) {
    for (const limit of [3, 500]) {
      list.push({ name: `listVms ${JSON.stringify(filter)} limit ${limit}`, run: (q) => q.listVms({ ...filter, limit }), tags: (a) => inventoryQueryTags.vms(filter, vmIdsOf(a)) });
    }
    // The second page after a fixed key.
    list.push({
      name: `listVms ${JSON.stringify(filter)} after vm-05`,
      run: (q) => q.listVms({ ...filter, limit: 3, cursor: Buffer.from(JSON.stringify({ after: 'vm-05' })).toString('base64url') }),
      tags: (a) => inventoryQueryTags.vms(filter, vmIdsOf(a)),
    });
  }
  for (let i = 0; i < 12; i++) {
    const vmId = `vm-${String(i).padStart(2, '0')}`;
    list.push({ name: `getVm ${vmId}`, run: (q) => q.getVm(vmId), tags: () => inventoryQueryTags.vm(vmId) });
  }
  for (const t of TENANTS) list.push({ name: `getTenant ${t}`, run: (q) => q.getTenant(t), tags: () => inventoryQueryTags.tenant(t) });
  for (const n of Object.keys(NODES)) list.push({ name: `getNode ${n}`, run: (q) => q.getNode(n), tags: () => inventoryQueryTags.node(n) });
  for (const r of REGIONS) list.push({ name: `getRegion ${r}`, run: (q) => q.getRegion(r), tags: () => inventoryQueryTags.region(r) });
  list.push({ name: 'listTenants', run: (q) => q.listTenants(), tags: () => inventoryQueryTags.tenants() });
  list.push({ name: 'listNodes', run: (q) => q.listNodes(), tags: () => inventoryQueryTags.nodes() });
  list.push({ name: 'listNodes r1', run: (q) => q.listNodes({ regionId: 'r1' }), tags: () => inventoryQueryTags.nodes() });
  list.push({ name: 'listRegions', run: (q) => q.listRegions(), tags: () => inventoryQueryTags.regions() });
  return list;
}

/** The next plausible step of the fleet: what a saga or an operator could record now. */
function nextSteps(random: () => number, vms: Map<string, SimVm>, created: number): { events: Given[]; created: number } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const live = [...vms.entries()].filter(([, vm]) => vm.state !== 'deleted');
  const roll = random();
  if (roll < 0.25 || live.length === 0) {
    if (created >= 12) return { events: [], created };
    const vmId = `vm-${String(created).padStart(2, '0')}`;
    const tenantId = pick(TENANTS);
    const nodeId = pick(Object.keys(NODES));
    const size = { vcpus: 1 + Math.floor(random() * 4), memoryMiB: 1024, diskGiB: 10 };
    vms.set(vmId, { tenantId, nodeId, state: 'stopped', migration: null, size });
    return {
      created: created + 1,
      events: [
        ev.quotaReserved(tenantId, `q-${vmId}`, vmId, { vms: 1, ...size }),
        ev.capacityReserved(nodeId, `c-${vmId}`, vmId, size),
        ev.vmCreated(vmId, { tenantId, nodeId, regionId: NODES[nodeId] ?? 'r1', size: { ...size, image: 'debian-12' } }),
        ev.quotaCommitted(tenantId, `q-${vmId}`, vmId),
        ev.capacityCommitted(nodeId, `c-${vmId}`, vmId),
      ],
    };
  }
  const [vmId, vm] = pick(live);
  const events: Given[] = [];
  switch (vm.state) {
    case 'stopped':
    case 'running': {
      const r = random();
      if (r < 0.3) {
        vm.state = vm.state === 'stopped' ? 'running' : 'stopped';
        events.push(vm.state === 'running' ? ev.vmStarted(vmId, vm.nodeId) : ev.vmStopped(vmId, vm.nodeId));
      } else if (r < 0.45 && vm.state === 'running') {
        vm.state = 'paused';
        events.push(ev.vmPaused(vmId));
      } else if (r < 0.55) {
        events.push(vm.state === 'running' ? ev.vmRestarted(vmId, vm.nodeId) : ev.vmSnapshotTaken(vmId, `s${Math.floor(random() * 1e6)}`));
      } else if (r < 0.75) {
        const target = pick(Object.keys(NODES).filter((n) => n !== vm.nodeId));
        const id = `m${Math.floor(random() * 1e9)}`;
        vm.migration = { id, target, resumeAs: vm.state === 'stopped' ? 'stopped' : 'running' };
        vm.state = 'migrating';
        events.push(
          ev.capacityReserved(target, `c-${id}`, vmId, vm.size),
          ev.vmMigrationStarted(vmId, id, { kind: vm.migration.resumeAs === 'stopped' ? 'cold' : 'live', sourceNodeId: vm.nodeId, targetNodeId: target, targetRegionId: NODES[target] ?? 'r1' }),
        );
      } else if (r < 0.85 && vm.state === 'stopped') {
        const to = { vcpus: vm.size.vcpus + 1, memoryMiB: vm.size.memoryMiB, diskGiB: vm.size.diskGiB };
        events.push(ev.vmResized(vmId, vm.size, to), ev.capacityReserved(vm.nodeId, `g-${vmId}-${to.vcpus}`, vmId, { vcpus: 1, memoryMiB: 0, diskGiB: 0 }), ev.capacityCommitted(vm.nodeId, `g-${vmId}-${to.vcpus}`, vmId));
        vm.size = to;
      } else if (r < 0.95) {
        vm.state = 'deleted';
        events.push(ev.vmDeleted(vmId, vm.tenantId, vm.nodeId), ev.quotaReleased(vm.tenantId, `q-${vmId}`, vmId, 'vm_deleted', { vms: 1, ...vm.size }), ev.capacityReleased(vm.nodeId, `c-${vmId}`, vmId, 'vm_deleted', vm.size));
      } else {
        vm.state = 'failed';
        events.push(ev.vmFailed(vmId, vm.nodeId));
      }
      break;
    }
    case 'paused':
      vm.state = 'running';
      events.push(ev.vmResumed(vmId));
      break;
    case 'migrating': {
      const m = vm.migration;
      if (m === null) throw new Error('migrating without a migration');
      if (random() < 0.7) {
        events.push(ev.vmMigrationCompleted(vmId, m.id, vm.nodeId, m.target), ev.capacityCommitted(m.target, `c-${m.id}`, vmId), ev.capacityReleased(vm.nodeId, `c-${vmId}`, vmId, 'vm_migrated', vm.size));
        vm.nodeId = m.target;
      } else {
        events.push(ev.vmMigrationFailed(vmId, m.id, vm.nodeId, m.target), ev.capacityReleased(m.target, `c-${m.id}`, vmId, 'compensated', vm.size));
      }
      vm.state = m.resumeAs;
      vm.migration = null;
      break;
    }
    case 'failed':
      vm.state = 'deleted';
      events.push(ev.vmDeleted(vmId, vm.tenantId, vm.nodeId));
      break;
    case 'deleted':
      break;
  }
  return { events, created };
}

let inventory: Inventory;
afterEach(async () => inventory?.close());

describe('cache tags are sound', () => {
  for (const seed of [1, 2, 3]) {
    it(`history ${seed}: every event that changes a query answer publishes one of the answer's tags`, async () => {
      inventory = ev.openInventory();
      const random = mulberry32(seed); // seeded, so a failing history can be replayed
      await inventory.apply(
        ...REGIONS.map((r) => ev.regionAdded(r)),
        ...Object.entries(NODES).map(([n, r]) => ev.nodeRegistered(n, r, { vcpus: 64 })),
        ...TENANTS.map((t) => ev.tenantCreated(t)),
      );
      const all = queries();
      const vms = new Map<string, SimVm>();
      let created = 0;
      let changes = 0;
      for (let step = 0; step < 100; step++) {
        const next = nextSteps(random, vms, created);
        created = next.created;
        for (const event of next.events) {
          const before = all.map((q) => q.run(inventory.queries));
          await inventory.apply(event);
          const published = new Set(tagsOf({ type: event.type, data: event.data } as unknown as CatalogEvent));
          all.forEach((q, i) => {
            const after = q.run(inventory.queries);
            if (isDeepStrictEqual(before[i], after)) return;
            changes++;
            const carried = q.tags(before[i]);
            expect(carried.some((t) => published.has(t)), `${event.type} ${JSON.stringify(event.data)} changed ${q.name} but published none of ${carried.join(' ')}`).toBe(true);
          });
        }
      }
      expect(changes).toBeGreaterThan(100);
    });
  }
});
