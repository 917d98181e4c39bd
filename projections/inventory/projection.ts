import type { SqliteProjection } from '../../streams/processing/projection.ts';
import { createInventoryApply } from './apply.ts';
import { createInventoryQueries, type InventoryQueries } from './queries.ts';
import { migrateInventory } from './tables.ts';
import { INVENTORY_EVENTS } from './types.ts';

export const INVENTORY = 'inventory';

/**
 * Inventory & usage: every VM, tenant (usage against quota), node (allocated
 * and reserved against capacity), region (with totals) and cluster, and the
 * revision applied of each of their streams. Serves the API's eventual and
 * session reads, and placement's candidate nodes.
 */
export function createInventoryProjection(): SqliteProjection<InventoryQueries> {
  return {
    name: INVENTORY,
    version: 1,
    handles: INVENTORY_EVENTS,
    migrate: migrateInventory,
    apply: createInventoryApply(),
    queries: createInventoryQueries,
  };
}

/** The instance the platform runs (projections/index.ts). */
export const inventoryProjection = createInventoryProjection();
