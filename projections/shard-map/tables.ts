import type Database from 'better-sqlite3';

/**
 * The shard map's tables (its SQLite file, `shard-map.g<n>.db`).
 *
 *   shard_regions          per region: shard count and ring parameters
 *   shard_vms              per VM (the key is its id): tenant, region, primary shard, replicas;
 *                          the target region of a migration in flight
 *   shard_load             per region and shard: VMs whose primary it is, share of the ring it owns
 *   rebalance_plans        one row per shard-count change: from → to, the analytic moved fraction,
 *                          VMs stored then and VMs whose primary moved; plan_id is the event's position
 *   rebalance_plan_moves   per plan and (from, to) pair of primaries: analytic fraction, VMs moved
 *   rebalance_moved_keys   per plan: every stored VM whose primary shard moved, from → to
 */
export function migrateShardMap(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS shard_regions (
      region_id TEXT PRIMARY KEY,
      shards INTEGER NOT NULL,
      virtual_nodes INTEGER NOT NULL,
      replication_factor INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS shard_vms (
      vm_id TEXT PRIMARY KEY,
      tenant_id TEXT NOT NULL,
      region_id TEXT NOT NULL,
      shard INTEGER NOT NULL,
      replicas TEXT NOT NULL,
      migration_id TEXT,
      target_region_id TEXT
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS shard_vms_by_region ON shard_vms (region_id, vm_id);
    CREATE TABLE IF NOT EXISTS shard_load (
      region_id TEXT NOT NULL,
      shard INTEGER NOT NULL,
      vms INTEGER NOT NULL,
      ring_fraction REAL NOT NULL,
      PRIMARY KEY (region_id, shard)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rebalance_plans (
      plan_id INTEGER PRIMARY KEY,
      region_id TEXT NOT NULL,
      occurred_at TEXT NOT NULL,
      from_shards INTEGER NOT NULL,
      to_shards INTEGER NOT NULL,
      moved_fraction REAL NOT NULL,
      vms INTEGER NOT NULL,
      moved_vms INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rebalance_plans_by_region ON rebalance_plans (region_id, plan_id);
    CREATE TABLE IF NOT EXISTS rebalance_plan_moves (
      plan_id INTEGER NOT NULL,
      from_shard INTEGER NOT NULL,
      to_shard INTEGER NOT NULL,
      fraction REAL NOT NULL,
      vms INTEGER NOT NULL,
      PRIMARY KEY (plan_id, from_shard, to_shard)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rebalance_moved_keys (
      plan_id INTEGER NOT NULL,
      key TEXT NOT NULL,
      from_shard INTEGER NOT NULL,
      to_shard INTEGER NOT NULL,
      PRIMARY KEY (plan_id, key)
    ) WITHOUT ROWID;
  `);
}
