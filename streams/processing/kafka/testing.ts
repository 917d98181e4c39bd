/** For the Kafka processor tests: a projection that notices any lost, repeated or reordered event, and table dumps to compare. */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { samples } from '../../catalog/fixtures.ts';
import type { NewEvent } from '../../eventstore/index.ts';
import { mulberry32 } from '../../../projections/capacity-forecast/model/prng.ts';
import type { SqliteProjection } from '../projection.ts';

/** JSON with object keys sorted, so equal data hashes equally whatever the decoder's key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Per stream: how many events were applied, the last revision, and a hash
 * chain over every event (revision, type, id, position and data, personal
 * fields decrypted). Any event lost, applied twice or out of stream order, or
 * decoded differently, gives another row than a replay of the log.
 */
export function ledgerProjection(types: readonly string[]): SqliteProjection<{ rows(): number }> {
  return {
    name: 'ledger',
    version: 1,
    handles: types,
    migrate: (db) =>
      db.exec('CREATE TABLE IF NOT EXISTS ledger (stream_id TEXT PRIMARY KEY, events INTEGER NOT NULL, last_revision INTEGER NOT NULL, chain TEXT NOT NULL) WITHOUT ROWID'),
    apply: (batch, db) => {
      const get = db.prepare<[string], { events: number; chain: string }>('SELECT events, chain FROM ledger WHERE stream_id = ?');
      const put = db.prepare('INSERT OR REPLACE INTO ledger (stream_id, events, last_revision, chain) VALUES (?, ?, ?, ?)');
      for (const e of batch) {
        const row = get.get(e.streamId);
        const chain = createHash('sha256')
          .update(`${row?.chain ?? ''}|${e.revision}|${e.type}|${e.metadata.eventId}|${e.position}|${stableJson(e.data)}`)
          .digest('hex');
        put.run(e.streamId, (row?.events ?? 0) + 1, e.revision, chain);
      }
    },
    queries: (db) => ({ rows: () => (db.prepare('SELECT COUNT(*) AS n FROM ledger').get() as { n: number }).n }),
  };
}

/** The runtime's own tables: they differ between a Kafka-fed file and an embedded replay by design. */
const BOOKKEEPING = new Set(['processor_checkpoint', 'parked_events', 'kafka_offsets', 'stream_revisions']);

/** Every projection table of `db`, its rows as sorted stable JSON. */
export function dumpTables(db: Database.Database): Record<string, string[]> {
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
  const dump: Record<string, string[]> = {};
  for (const { name } of tables) {
    if (BOOKKEEPING.has(name)) continue;
    dump[name] = db.prepare(`SELECT * FROM "${name}"`).all().map(stableJson).sort();
  }
  return dump;
}

export interface Append {
  streamId: string;
  events: NewEvent[];
}

/**
 * A fleet's life as appends, in a deterministic order: regions (default
 * shard count, so the shard map never reshards), clusters with health
 * reports, nodes with capacity changes, tenants with contact e-mails
 * (personal data, encrypted), then VMs placed on nodes (reserve → commit →
 * create, ssh keys and user data encrypted), started, stopped, migrated
 * across regions, deleted with their capacity released.
 */
export function fleetWorkload({ seed = 7, regions = 6, clustersPerRegion = 2, nodes = 60, tenants = 40, vms = 600 } = {}): { setup: Append[]; vms: Append[] } {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const meta = (tenantId: string | null) => ({ metadata: { tenantId, actor: 'system:test' } });
  const setup: Append[] = [];
  const regionIds = Array.from({ length: regions }, (_, i) => `r${i}`);
  for (const [i, regionId] of regionIds.entries()) {
    setup.push({ streamId: `region-${regionId}`, events: [{ type: 'RegionAdded', data: { ...samples.RegionAdded, regionId, name: `Region ${i}`, lat: -60 + i * 20, lon: -150 + i * 50, costPerVcpuHour: 0.01 + i / 100, shards: 100 }, ...meta(null) }] });
  }
  const clusters: Array<{ clusterId: string; regionId: string }> = [];
  for (const regionId of regionIds) {
    for (let c = 0; c < clustersPerRegion; c++) {
      const clusterId = `${regionId}c${c}`;
      clusters.push({ clusterId, regionId });
      const health = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ type: 'ClusterHealthReported', data: { clusterId, regionId, healthy: random() > 0.3, detail: null }, ...meta(null) }));
      setup.push({ streamId: `cluster-${clusterId}`, events: [{ type: 'ClusterJoined', data: { clusterId, regionId }, ...meta(null) }, ...health] });
    }
  }
  const nodeIds: Array<{ nodeId: string; regionId: string }> = [];
  for (let n = 0; n < nodes; n++) {
    const { clusterId, regionId } = pick(clusters);
    const nodeId = `n${n}`;
    nodeIds.push({ nodeId, regionId });
    const events: NewEvent[] = [{ type: 'NodeRegistered', data: { ...samples.NodeRegistered, nodeId, regionId, clusterId, capacity: { vcpus: 64 + 32 * (n % 4), memoryMiB: 262_144, diskGiB: 4000 }, overcommitRatio: 1.5 }, ...meta(null) }];
    if (random() < 0.3) events.push({ type: 'NodeCapacityChanged', data: { nodeId, capacity: { vcpus: 256, memoryMiB: 524_288, diskGiB: 8000 }, overcommitRatio: 2 }, ...meta(null) });
    setup.push({ streamId: `node-${nodeId}`, events });
  }
  const tenantIds = Array.from({ length: tenants }, (_, t) => `t${t}`);
  for (const tenantId of tenantIds) {
    const allowedRegions = regionIds.filter(() => random() < 0.6);
    setup.push({ streamId: `tenant-${tenantId}`, events: [{ type: 'TenantCreated', data: { ...samples.TenantCreated, tenantId, name: tenantId, contactEmail: `ops@${tenantId}.example`, allowedRegions: allowedRegions.length > 0 ? allowedRegions : ['r0'] }, ...meta(tenantId) }] });
  }

  const appends: Append[] = [];
  for (let v = 0; v < vms; v++) {
    const vmId = `vm${v}`;
    const tenantId = pick(tenantIds);
    const { nodeId, regionId } = pick(nodeIds);
    const size = { vcpus: 1 + (v % 4), memoryMiB: 2048, diskGiB: 20 };
    const reservationId = `cr-${vmId}`;
    appends.push({ streamId: `node-${nodeId}`, events: [{ type: 'CapacityReserved', data: { ...samples.CapacityReserved, nodeId, reservationId, vmId, resources: size }, ...meta(tenantId) }] });
    appends.push({ streamId: `node-${nodeId}`, events: [{ type: 'CapacityCommitted', data: { nodeId, reservationId, vmId }, ...meta(tenantId) }] });
    const vm: NewEvent[] = [
      {
        type: 'VmCreated',
        data: { ...samples.VmCreated, vmId, tenantId, name: `vm-${v}`, spec: { ...size, image: 'ubuntu-24.04' }, regionId, nodeId, sshPublicKeys: [`ssh-ed25519 AAAA${v} user`], userData: `#cloud-config\nhostname: vm${v}\n` },
        ...meta(tenantId),
      },
      { type: 'VmStarted', data: { vmId, nodeId }, ...meta(tenantId) },
    ];
    const roll = random();
    if (roll < 0.2) {
      const target = pick(nodeIds);
      const migrationId = `m-${vmId}`;
      vm.push(
        { type: 'VmMigrationStarted', data: { ...samples.VmMigrationStarted, vmId, migrationId, sourceNodeId: nodeId, targetNodeId: target.nodeId, targetRegionId: target.regionId, capacityReservationId: `cr2-${vmId}` }, ...meta(tenantId) },
        { type: 'VmMigrationCompleted', data: { vmId, migrationId, sourceNodeId: nodeId, targetNodeId: target.nodeId }, ...meta(tenantId) },
      );
    } else if (roll < 0.35) {
      vm.push({ type: 'VmStopped', data: { vmId, nodeId, reason: null }, ...meta(tenantId) }, { type: 'VmDeleted', data: { vmId, tenantId, nodeId }, ...meta(tenantId) });
      appends.push({ streamId: `vm-${vmId}`, events: vm });
      appends.push({ streamId: `node-${nodeId}`, events: [{ type: 'CapacityReleased', data: { nodeId, reservationId, vmId, resources: size, reason: 'vm_deleted' }, ...meta(tenantId) }] });
      continue;
    } else if (roll < 0.6) {
      vm.push({ type: 'VmStopped', data: { vmId, nodeId, reason: null }, ...meta(tenantId) }, { type: 'VmStarted', data: { vmId, nodeId }, ...meta(tenantId) });
    }
    appends.push({ streamId: `vm-${vmId}`, events: vm });
  }
  return { setup, vms: appends };
}
