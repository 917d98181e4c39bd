import type Database from 'better-sqlite3';
import type { RingCache } from './ring-cache.ts';

export interface ShardPlacementAnswer {
  key: string;
  region: string;
  shard: number;
  /** The next distinct shards clockwise (replication factor 3: two). */
  replicas: number[];
  /** 'vm': the stored placement of the VM with this id; 'ring': the key hashed on the region's ring. */
  source: 'vm' | 'ring';
  /** The owner when the key is a VM; null for any other key. */
  tenantId: string | null;
}

export interface ShardRegion {
  regionId: string;
  shards: number;
  virtualNodes: number;
  replicationFactor: number;
}

export interface ShardLoadRow {
  shard: number;
  /** VMs whose primary shard it is. */
  vms: number;
  /** Share of the hash space (so of uniformly hashed keys) the shard owns as primary. */
  ringFraction: number;
}

export interface RebalanceMove {
  from: number;
  to: number;
  /** Share of the hash space that moves from → to (exact, from the two rings). */
  fraction: number;
  /** Stored VMs that actually moved from → to. */
  vms: number;
}

export interface RebalancePlanView {
  /** Position of the event that changed the shard count. */
  planId: number;
  regionId: string;
  occurredAt: string;
  fromShards: number;
  toShards: number;
  /** Share of the hash space whose primary shard changed. */
  movedFraction: number;
  /** VMs stored in the region when the plan was made. */
  vms: number;
  /** Of those, the VMs whose primary shard changed. */
  movedVms: number;
  /** Largest first; at most `moves` of them. */
  moves: RebalanceMove[];
  /** The VMs that moved, by key; at most `movedKeys` of them. */
  movedKeys: Array<{ key: string; from: number; to: number }>;
}

export interface ShardMapQueries {
  /**
   * Where a key lives.
   *  - Without `regionId`: the key must be a VM id; its stored placement (its region is where it runs).
   *  - With `regionId`: a VM of that region answers its stored placement; any other key
   *    (or a VM of another region) is hashed on that region's ring.
   * null when the key is not a VM and no region is given, or the region is unknown.
   * Async because a ring not yet in memory (after a restart, say) is first
   * built in the ring cache's worker thread, never on the request path.
   */
  lookup(key: string, options?: { regionId?: string }): Promise<ShardPlacementAnswer | null>;
  /** The region's shard count and ring parameters; null when the map does not know it. */
  region(regionId: string): ShardRegion | null;
  /** Load per shard, by shard number; null when the region is unknown. */
  shards(regionId: string): ShardLoadRow[] | null;
  /** The region's rebalance plans, newest first. */
  plans(regionId: string, limits?: { plans?: number; moves?: number; movedKeys?: number }): RebalancePlanView[];
}

export function createShardMapQueries(db: Database.Database, cache: RingCache): ShardMapQueries {
  const vmRow = db.prepare<[string], { tenant_id: string; region_id: string; shard: number; replicas: string }>(
    'SELECT tenant_id, region_id, shard, replicas FROM shard_vms WHERE vm_id = ?',
  );
  const regionRow = db.prepare<[string], { shards: number; virtual_nodes: number; replication_factor: number }>(
    'SELECT shards, virtual_nodes, replication_factor FROM shard_regions WHERE region_id = ?',
  );
  const loadRows = db.prepare<[string], { shard: number; vms: number; ring_fraction: number }>(
    'SELECT shard, vms, ring_fraction FROM shard_load WHERE region_id = ? ORDER BY shard',
  );
  const planRows = db.prepare<[string, number], {
    plan_id: number;
    region_id: string;
    occurred_at: string;
    from_shards: number;
    to_shards: number;
    moved_fraction: number;
    vms: number;
    moved_vms: number;
  }>('SELECT * FROM rebalance_plans WHERE region_id = ? ORDER BY plan_id DESC LIMIT ?');
  const moveRows = db.prepare<[number, number], { from_shard: number; to_shard: number; fraction: number; vms: number }>(
    'SELECT from_shard, to_shard, fraction, vms FROM rebalance_plan_moves WHERE plan_id = ? ORDER BY fraction DESC, from_shard, to_shard LIMIT ?',
  );
  const movedKeyRows = db.prepare<[number, number], { key: string; from_shard: number; to_shard: number }>(
    'SELECT key, from_shard, to_shard FROM rebalance_moved_keys WHERE plan_id = ? ORDER BY key LIMIT ?',
  );

  const region = (regionId: string): ShardRegion | null => {
    const row = regionRow.get(regionId);
    return row ? { regionId, shards: row.shards, virtualNodes: row.virtual_nodes, replicationFactor: row.replication_factor } : null;
  };
  const limit = (n: number | undefined, fallback: number) => (n === undefined ? fallback : Number.isFinite(n) ? Math.max(0, Math.floor(n)) : -1);

  return {
    async lookup(key, { regionId } = {}) {
      const vm = vmRow.get(key);
      if (vm && (regionId === undefined || regionId === vm.region_id)) {
        return { key, region: vm.region_id, shard: vm.shard, replicas: JSON.parse(vm.replicas) as number[], source: 'vm', tenantId: vm.tenant_id };
      }
      if (regionId === undefined) return null;
      const params = region(regionId);
      if (!params) return null;
      await cache.prepare(params);
      const { shard, replicas } = cache.ring(params).lookup(key);
      return { key, region: regionId, shard, replicas: [...replicas], source: 'ring', tenantId: null };
    },
    region,
    shards(regionId) {
      if (!regionRow.get(regionId)) return null;
      return loadRows.all(regionId).map((r) => ({ shard: r.shard, vms: r.vms, ringFraction: r.ring_fraction }));
    },
    plans(regionId, limits = {}) {
      // SQLite reads LIMIT -1 as "no limit".
      return planRows.all(regionId, limit(limits.plans, 20)).map((p) => ({
        planId: p.plan_id,
        regionId: p.region_id,
        occurredAt: p.occurred_at,
        fromShards: p.from_shards,
        toShards: p.to_shards,
        movedFraction: p.moved_fraction,
        vms: p.vms,
        movedVms: p.moved_vms,
        moves: moveRows.all(p.plan_id, limit(limits.moves, 20)).map((m) => ({ from: m.from_shard, to: m.to_shard, fraction: m.fraction, vms: m.vms })),
        movedKeys: movedKeyRows.all(p.plan_id, limit(limits.movedKeys, 1000)).map((k) => ({ key: k.key, from: k.from_shard, to: k.to_shard })),
      }));
    },
  };
}
