import type Database from 'better-sqlite3';

/**
 * The routing table's tables (its SQLite file, `routing-table.g<n>.db`).
 *
 *   routing_regions       per region: coordinates, cost, retired (a row with added = 0 remembers a
 *                         retirement read before the region's RegionAdded), and the figures routing filters
 *                         and ranks on, recomputed whenever an input event touches the region:
 *                         healthy_clusters (joined clusters not reported unhealthy),
 *                         capacity_vcpus (Σ allocatable vCPUs of its live nodes: capacity × overcommit),
 *                         allocated_vcpus (Σ committed vCPUs on those nodes)
 *   routing_clusters      per cluster: region, joined, last reported health
 *   routing_nodes         per node: region, allocatable and committed vCPUs, live (not failed or decommissioned)
 *   routing_reservations  pending capacity reservations (their vCPUs become committed on CapacityCommitted)
 *   routing_holdings      committed vCPUs per node and VM (what a CapacityReleased gives back)
 *   routing_tenants       per tenant: its allowed regions (JSON array)
 */
export function migrateRoutingTable(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS routing_regions (
      region_id TEXT PRIMARY KEY,
      added INTEGER NOT NULL DEFAULT 0,
      lat REAL,
      lon REAL,
      cost_per_vcpu_hour REAL,
      retired INTEGER NOT NULL DEFAULT 0,
      healthy_clusters INTEGER NOT NULL DEFAULT 0,
      allocated_vcpus INTEGER NOT NULL DEFAULT 0,
      capacity_vcpus INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS routing_clusters (
      cluster_id TEXT PRIMARY KEY,
      region_id TEXT NOT NULL,
      joined INTEGER NOT NULL,
      healthy INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS routing_clusters_by_region ON routing_clusters (region_id);
    CREATE TABLE IF NOT EXISTS routing_nodes (
      node_id TEXT PRIMARY KEY,
      region_id TEXT NOT NULL,
      capacity_vcpus INTEGER NOT NULL,
      allocated_vcpus INTEGER NOT NULL,
      live INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS routing_nodes_by_region ON routing_nodes (region_id);
    CREATE TABLE IF NOT EXISTS routing_reservations (
      reservation_id TEXT PRIMARY KEY,
      node_id TEXT NOT NULL,
      vm_id TEXT NOT NULL,
      vcpus INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS routing_holdings (
      node_id TEXT NOT NULL,
      vm_id TEXT NOT NULL,
      vcpus INTEGER NOT NULL,
      PRIMARY KEY (node_id, vm_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS routing_tenants (
      tenant_id TEXT PRIMARY KEY,
      allowed_regions TEXT NOT NULL
    ) WITHOUT ROWID;
  `);
}
