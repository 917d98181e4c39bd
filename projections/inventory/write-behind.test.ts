import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { openSqliteStateStore, type SqliteStateStore } from '../../streams/processing/sqlite-state.ts';
import { createInventoryApply } from './apply.ts';
import { migrateInventory } from './tables.ts';
import * as e from './testing.ts';
import type { Given } from './testing.ts';

/** A small deterministic PRNG (mulberry32), so a failing history can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: <T>(items: readonly T[]): T => items[int(items.length)] as T };
}

const pool = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const REGIONS = pool('r', 3);
const CLUSTERS = pool('k', 4);
const NODES = pool('n', 8);
const TENANTS = pool('t', 5);
const VMS = pool('vm', 40);
const RESERVATIONS = pool('res', 30);

/**
 * Any sequence of inventory events over small pools of ids, so that they keep
 * meeting: reservations reserved twice, committed and released in any order
 * (and for owners that do not exist), owners re-created (which clears their
 * ledger), VMs migrating between regions, nodes failing and coming back.
 */
function history(seed: number, length: number): Given[] {
  const r = random(seed);
  const size = () => ({ vcpus: 1 + r.int(4), memoryMiB: 1024 * (1 + r.int(4)), diskGiB: 10 * (1 + r.int(3)) });
  const quota = () => ({ vms: 1, ...size() });
  // Most commits and releases name a reservation made before (the rest name anything).
  const made = { tenant: [] as Array<[string, string, string]>, node: [] as Array<[string, string, string]> };
  const reserve = (kind: 'tenant' | 'node', owners: readonly string[]): [string, string, string] => {
    const made_ = [r.pick(owners), r.pick(RESERVATIONS), r.pick(VMS)] as [string, string, string];
    made[kind].push(made_);
    return made_;
  };
  const earlier = (kind: 'tenant' | 'node', owners: readonly string[]): [string, string, string] =>
    made[kind].length > 0 && r.int(10) < 8 ? r.pick(made[kind]) : [r.pick(owners), r.pick(RESERVATIONS), r.pick(VMS)];
  const makers: Array<() => Given> = [
    () => e.regionAdded(r.pick(REGIONS)),
    () => e.regionUpdated(r.pick(REGIONS), { shards: 1 + r.int(50) }),
    () => e.regionRetired(r.pick(REGIONS)),
    () => e.clusterJoined(r.pick(CLUSTERS), r.pick(REGIONS)),
    () => e.clusterLeft(r.pick(CLUSTERS), r.pick(REGIONS)),
    () => e.clusterHealth(r.pick(CLUSTERS), r.pick(REGIONS), r.int(2) === 0),
    () => e.nodeRegistered(r.pick(NODES), r.pick(REGIONS), { vcpus: 16 + r.int(64), overcommitRatio: 1 + r.int(3) / 2 }),
    () => e.nodeCapacityChanged(r.pick(NODES), { vcpus: 8 + r.int(64), memoryMiB: 65_536, diskGiB: 2000 }, 1 + r.int(2)),
    () => e.nodeCordoned(r.pick(NODES)),
    () => e.nodeUncordoned(r.pick(NODES)),
    () => e.nodeDrainStarted(r.pick(NODES)),
    () => e.nodeFailed(r.pick(NODES)),
    () => e.nodeDecommissioned(r.pick(NODES)),
    () => e.tenantCreated(r.pick(TENANTS)),
    () => e.tenantQuotaChanged(r.pick(TENANTS), { vms: 5 + r.int(20), vcpus: 100, memoryMiB: 100_000, diskGiB: 5000 }),
    () => e.tenantSuspended(r.pick(TENANTS)),
    () => e.tenantReactivated(r.pick(TENANTS)),
    () => e.tenantDeleted(r.pick(TENANTS)),
    () => e.quotaReserved(...reserve('tenant', TENANTS), quota()),
    () => e.quotaReserved(...reserve('tenant', TENANTS), quota()),
    () => e.quotaCommitted(...earlier('tenant', TENANTS)),
    () => e.quotaCommitted(...earlier('tenant', TENANTS)),
    () => e.quotaReleased(...earlier('tenant', TENANTS), 'vm_deleted', quota()),
    () => e.capacityReserved(...reserve('node', NODES), size()),
    () => e.capacityReserved(...reserve('node', NODES), size()),
    () => e.capacityCommitted(...earlier('node', NODES)),
    () => e.capacityCommitted(...earlier('node', NODES)),
    () => e.capacityReleased(...earlier('node', NODES), 'vm_deleted', size()),
    () => e.vmCreated(r.pick(VMS), { tenantId: r.pick(TENANTS), nodeId: r.pick(NODES), regionId: r.pick(REGIONS), size: { ...size(), image: 'debian-12' } }),
    () => e.vmStarted(r.pick(VMS)),
    () => e.vmStopped(r.pick(VMS)),
    () => e.vmRestarted(r.pick(VMS)),
    () => e.vmPaused(r.pick(VMS)),
    () => e.vmResumed(r.pick(VMS)),
    () => e.vmResized(r.pick(VMS), size(), size()),
    () => e.vmMigrationStarted(r.pick(VMS), `m${r.int(5)}`, { targetNodeId: r.pick(NODES), targetRegionId: r.pick(REGIONS) }),
    () => e.vmMigrationCompleted(r.pick(VMS), `m${r.int(5)}`, r.pick(NODES), r.pick(NODES)),
    () => e.vmMigrationFailed(r.pick(VMS), `m${r.int(5)}`),
    () => e.vmSnapshotTaken(r.pick(VMS)),
    () => e.vmDeleted(r.pick(VMS)),
    () => e.vmFailed(r.pick(VMS)),
  ];
  return Array.from({ length: length }, () => r.pick(makers)());
}

/** `events` recorded: each at the next revision of its stream and the next position. */
function record(events: readonly Given[]): RecordedEvent[] {
  const revisions = new Map<string, number>();
  const start = Date.parse('2030-01-01T00:00:00Z');
  return events.map((g, i) => {
    const revision = (revisions.get(g.streamId) ?? -1) + 1;
    revisions.set(g.streamId, revision);
    const occurredAt = new Date(start + i * 1000).toISOString();
    return {
      streamId: g.streamId,
      revision,
      position: i + 1,
      type: g.type,
      data: g.data,
      metadata: { eventId: `e${i + 1}`, tenantId: null, correlationId: 'test', causationId: null, actor: 'operator:test', occurredAt, schemaVersion: 1 },
      recordedAt: occurredAt,
    };
  });
}

const dirs: string[] = [];
const stores: SqliteStateStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openTables(): SqliteStateStore {
  const dir = mkdtempSync(join(tmpdir(), 'novacron-inventory-wb-'));
  dirs.push(dir);
  const state = openSqliteStateStore({ path: join(dir, 'inventory.db'), sync: 'normal', migrate: migrateInventory });
  stores.push(state);
  return state;
}

/** Every row of every table of the inventory, in key order. */
function dump(state: SqliteStateStore): Record<string, unknown[]> {
  const tables = state.db
    .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'inv\\_%' ESCAPE '\\' OR name = 'stream_revisions') ORDER BY name")
    .pluck()
    .all();
  return Object.fromEntries(tables.map((table) => [table, state.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).all()]));
}

/**
 * Applies `log` in batches of the sizes `sizes` draws, some of them with
 * events of earlier batches delivered again (which must change nothing).
 */
function applier(state: SqliteStateStore, apply: ReturnType<typeof createInventoryApply>, seed: number, maxBatch: number) {
  const r = random(seed);
  let checkpoint = 0;
  let delivered: RecordedEvent[] = [];
  /** Applies `events` in batches of random sizes, some with events of earlier batches again (which must change nothing). */
  return async (events: readonly RecordedEvent[]) => {
    for (let at = 0; at < events.length; ) {
      const batch = events.slice(at, at + 1 + r.int(maxBatch));
      at += batch.length;
      const again = delivered.length > 0 && r.int(4) === 0 ? delivered.slice(-1 - r.int(20)) : [];
      checkpoint = Math.max(checkpoint + 1, (batch[batch.length - 1] as RecordedEvent).position);
      await state.commit(checkpoint, (db) => apply([...again, ...batch], db));
      delivered = [...delivered.slice(-50), ...batch];
    }
  };
}

/** Applies `log` event by event through the tables and in batches through the write-behind path, comparing every table every `every` events. */
async function compare(log: readonly RecordedEvent[], { seed, maxBatch, every }: { seed: number; maxBatch: number; every: number }) {
  const reference = openTables();
  const batched = openTables();
  const straightforward = applier(reference, createInventoryApply({ writeBehind: false }), seed, 1);
  const inBatches = applier(batched, createInventoryApply(), seed * 7919, maxBatch);
  const reached = new Set<string>();
  for (let at = 0; at < log.length; at += every) {
    const part = log.slice(at, at + every);
    await straightforward(part);
    await inBatches(part);
    const expected = dump(reference);
    for (const [table, rows] of Object.entries(expected)) if (rows.length > 0) reached.add(table);
    expect(dump(batched), `after ${at + part.length} events`).toEqual(expected);
  }
  expect(batched.db.pragma('integrity_check', { simple: true })).toBe('ok');
  return { reference, reached };
}

describe('inventory: the write-behind batch path', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`builds the same tables as applying each event through the tables (history ${seed})`, async () => {
      const { reached } = await compare(record(history(seed, 3000)), { seed, maxBatch: seed % 2 === 0 ? 50 : 700, every: 500 });
      // The history reaches every table (comparing empty tables proves nothing).
      expect(reached.size).toBe(9);
    });
  }

  it('writes the totals row of a region whose changes cancel out within a batch, as event by event does', async () => {
    const log = record([e.vmCreated('v1', { regionId: 'quiet' }), e.vmDeleted('v1')]);
    const { reference } = await compare(log, { seed: 1, maxBatch: 2000, every: log.length });
    expect(reference.db.prepare('SELECT region_id, vms FROM inv_region_totals').all()).toEqual([{ region_id: 'quiet', vms: 0 }]);
  });

  it('builds the same tables for a fleet log applied in large batches', async () => {
    const r = random(42);
    const events: Given[] = [];
    for (const regionId of REGIONS) events.push(e.regionAdded(regionId));
    for (const [i, nodeId] of NODES.entries()) events.push(e.nodeRegistered(nodeId, REGIONS[i % REGIONS.length] as string, { vcpus: 512, overcommitRatio: 2 }));
    for (const tenantId of TENANTS) events.push(e.tenantCreated(tenantId, { quota: { vms: 10_000, vcpus: 100_000, memoryMiB: 100_000_000, diskGiB: 10_000_000 } }));
    for (let v = 0; v < 600; v++) {
      const [vmId, tenantId, nodeId] = [`v${v}`, r.pick(TENANTS), r.pick(NODES)];
      const regionId = REGIONS[NODES.indexOf(nodeId) % REGIONS.length] as string;
      const resources = { vcpus: 1 + (v % 4), memoryMiB: 1024, diskGiB: 20 };
      events.push(
        e.quotaReserved(tenantId, `q${v}`, vmId, { vms: 1, ...resources }),
        e.capacityReserved(nodeId, `c${v}`, vmId, resources),
        e.vmCreated(vmId, { tenantId, nodeId, regionId, size: { ...resources, image: 'debian-12' } }),
        e.quotaCommitted(tenantId, `q${v}`, vmId),
        e.capacityCommitted(nodeId, `c${v}`, vmId),
        e.vmStarted(vmId, nodeId),
      );
      if (v % 3 === 0) {
        events.push(
          e.vmDeleted(vmId, tenantId, nodeId),
          e.quotaReleased(tenantId, `q${v}`, vmId, 'vm_deleted', { vms: 1, ...resources }),
          e.capacityReleased(nodeId, `c${v}`, vmId, 'vm_deleted', resources),
        );
      }
    }
    const log = record(events);
    const { reference } = await compare(log, { seed: 1, maxBatch: 2000, every: log.length });
    // And the totals are what the fleet adds up to: 400 of the 600 VMs remain.
    const totals = reference.db.prepare<[], { vms: number }>('SELECT SUM(vms) AS vms FROM inv_region_totals').get();
    expect(totals?.vms).toBe(400);
    expect(reference.db.prepare<[], number>('SELECT SUM(used_vms) FROM inv_tenants').pluck().get()).toBe(400);
  });
});
