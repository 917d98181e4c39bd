import type Database from 'better-sqlite3';

/**
 * The capacity-forecast projection's tables (its own SQLite file):
 *
 * - `nodes`: each node's region, cluster, allocatable vCPUs and memory
 *   (capacity × overcommit, as the node counts it) and whether it is in
 *   service (not failed, not decommissioned).
 * - `reservations`, `holdings`: the nodes' capacity ledgers (pending
 *   reservations by id, committed resources by VM), so a CapacityCommitted,
 *   which carries no amounts, finds what it commits.
 * - `allocated`: allocated vCPUs and memory (MiB) now, per region and cluster.
 * - `allocated_hourly`: the same at the end of each hour it changed in (hours
 *   since the epoch); hours without a row carry the previous value forward.
 * - `stream_time`: the latest event hour applied; series end there.
 */
export function migrate(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS nodes (
      node_id TEXT PRIMARY KEY,
      region_id TEXT NOT NULL,
      cluster_id TEXT,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      in_service INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS nodes_by_region ON nodes (region_id);
    CREATE TABLE IF NOT EXISTS reservations (
      node_id TEXT NOT NULL,
      reservation_id TEXT NOT NULL,
      vm_id TEXT NOT NULL,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      PRIMARY KEY (node_id, reservation_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS holdings (
      node_id TEXT NOT NULL,
      vm_id TEXT NOT NULL,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      PRIMARY KEY (node_id, vm_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS allocated (
      scope TEXT NOT NULL CHECK (scope IN ('region', 'cluster')),
      scope_id TEXT NOT NULL,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      PRIMARY KEY (scope, scope_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS allocated_hourly (
      scope TEXT NOT NULL,
      scope_id TEXT NOT NULL,
      hour INTEGER NOT NULL,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      PRIMARY KEY (scope, scope_id, hour)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS stream_time (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      hour INTEGER NOT NULL
    );
  `);
}
