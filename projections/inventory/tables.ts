import type Database from 'better-sqlite3';

/**
 * The inventory's tables (its SQLite file, `inventory.g<n>.db`).
 *
 *   inv_vms              per VM: tenant, node, region, cluster, state, size, image, snapshots,
 *                        migration in flight (JSON); revision/position it was created and last changed at
 *   inv_tenants          per tenant: status, quota, allowed regions (JSON), usage and reservations totals
 *   inv_nodes            per node: region, cluster, status, capacity, overcommit ratio,
 *                        allocatable, allocated and reserved totals
 *   inv_ledger_pending   pending reservations of a tenant (quota) or node (capacity), by owner stream
 *   inv_ledger_held      what each VM holds of a tenant's quota or a node's capacity, by owner stream
 *   inv_regions          per region: name, coordinates, compliance zone, cost, shards, status
 *   inv_region_totals    per region: nodes (not decommissioned), VMs (not deleted), vCPUs and memory
 *                        capacity / allocatable / allocated of its nodes
 *   inv_clusters         per cluster: region, joined or left, last reported health
 *   stream_revisions     per stream: the revision and position of the last event applied
 *                        (session reads by `<streamId>@<revision>`, and duplicate suppression)
 */
/** The columns every entity table ends with: the revision, position and time of the event that created it and of the last that changed it. */
const CREATED_AND_CHANGED = `      created_revision INTEGER NOT NULL,
      created_position INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      revision INTEGER NOT NULL,
      position INTEGER NOT NULL,
      updated_at TEXT NOT NULL`;

export function migrateInventory(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS inv_vms (
      vm_id TEXT PRIMARY KEY,
      tenant_id TEXT NOT NULL,
      name TEXT NOT NULL,
      state TEXT NOT NULL,
      node_id TEXT NOT NULL,
      region_id TEXT NOT NULL,
      cluster_id TEXT,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      disk_gib INTEGER NOT NULL,
      image TEXT NOT NULL,
      snapshots INTEGER NOT NULL,
      migration TEXT,
${CREATED_AND_CHANGED}
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS inv_vms_by_tenant ON inv_vms (tenant_id, vm_id);
    CREATE INDEX IF NOT EXISTS inv_vms_by_node ON inv_vms (node_id, vm_id);
    CREATE INDEX IF NOT EXISTS inv_vms_by_region ON inv_vms (region_id, vm_id);
    CREATE INDEX IF NOT EXISTS inv_vms_by_state ON inv_vms (state, vm_id);

    CREATE TABLE IF NOT EXISTS inv_tenants (
      tenant_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      status TEXT NOT NULL,
      allowed_regions TEXT NOT NULL,
      quota_vms INTEGER NOT NULL,
      quota_vcpus INTEGER NOT NULL,
      quota_memory_mib INTEGER NOT NULL,
      quota_disk_gib INTEGER NOT NULL,
      used_vms INTEGER NOT NULL DEFAULT 0,
      used_vcpus INTEGER NOT NULL DEFAULT 0,
      used_memory_mib INTEGER NOT NULL DEFAULT 0,
      used_disk_gib INTEGER NOT NULL DEFAULT 0,
      reserved_vms INTEGER NOT NULL DEFAULT 0,
      reserved_vcpus INTEGER NOT NULL DEFAULT 0,
      reserved_memory_mib INTEGER NOT NULL DEFAULT 0,
      reserved_disk_gib INTEGER NOT NULL DEFAULT 0,
      reservations INTEGER NOT NULL DEFAULT 0,
${CREATED_AND_CHANGED}
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS inv_tenants_by_status ON inv_tenants (status, tenant_id);

    CREATE TABLE IF NOT EXISTS inv_nodes (
      node_id TEXT PRIMARY KEY,
      region_id TEXT NOT NULL,
      cluster_id TEXT,
      status TEXT NOT NULL,
      capacity_vcpus INTEGER NOT NULL,
      capacity_memory_mib INTEGER NOT NULL,
      capacity_disk_gib INTEGER NOT NULL,
      overcommit_ratio REAL NOT NULL,
      allocatable_vcpus INTEGER NOT NULL,
      allocatable_memory_mib INTEGER NOT NULL,
      allocatable_disk_gib INTEGER NOT NULL,
      allocated_vcpus INTEGER NOT NULL DEFAULT 0,
      allocated_memory_mib INTEGER NOT NULL DEFAULT 0,
      allocated_disk_gib INTEGER NOT NULL DEFAULT 0,
      reserved_vcpus INTEGER NOT NULL DEFAULT 0,
      reserved_memory_mib INTEGER NOT NULL DEFAULT 0,
      reserved_disk_gib INTEGER NOT NULL DEFAULT 0,
      reservations INTEGER NOT NULL DEFAULT 0,
${CREATED_AND_CHANGED}
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS inv_nodes_by_region ON inv_nodes (region_id, node_id);
    CREATE INDEX IF NOT EXISTS inv_nodes_by_status ON inv_nodes (status, node_id);
    CREATE INDEX IF NOT EXISTS inv_nodes_by_position ON inv_nodes (position);

    CREATE TABLE IF NOT EXISTS inv_ledger_pending (
      owner TEXT NOT NULL,
      reservation_id TEXT NOT NULL,
      vm_id TEXT NOT NULL,
      vms INTEGER NOT NULL,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      disk_gib INTEGER NOT NULL,
      expires_at TEXT NOT NULL,
      PRIMARY KEY (owner, reservation_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS inv_ledger_held (
      owner TEXT NOT NULL,
      vm_id TEXT NOT NULL,
      reservation_id TEXT NOT NULL,
      vms INTEGER NOT NULL,
      vcpus INTEGER NOT NULL,
      memory_mib INTEGER NOT NULL,
      disk_gib INTEGER NOT NULL,
      PRIMARY KEY (owner, vm_id)
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS inv_regions (
      region_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      lat REAL NOT NULL,
      lon REAL NOT NULL,
      compliance_zone TEXT NOT NULL,
      cost_per_vcpu_hour REAL NOT NULL,
      shards INTEGER NOT NULL,
      status TEXT NOT NULL,
${CREATED_AND_CHANGED}
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS inv_region_totals (
      region_id TEXT PRIMARY KEY,
      nodes INTEGER NOT NULL DEFAULT 0,
      vms INTEGER NOT NULL DEFAULT 0,
      vcpus_capacity INTEGER NOT NULL DEFAULT 0,
      vcpus_allocatable INTEGER NOT NULL DEFAULT 0,
      vcpus_allocated INTEGER NOT NULL DEFAULT 0,
      memory_mib_capacity INTEGER NOT NULL DEFAULT 0,
      memory_mib_allocatable INTEGER NOT NULL DEFAULT 0,
      memory_mib_allocated INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS inv_clusters (
      cluster_id TEXT PRIMARY KEY,
      region_id TEXT NOT NULL,
      status TEXT NOT NULL,
      healthy INTEGER,
      revision INTEGER NOT NULL,
      position INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS stream_revisions (
      stream_id TEXT PRIMARY KEY,
      revision INTEGER NOT NULL,
      position INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
}
