import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { openTempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import { createProjectionHost } from '../../streams/processing/host.ts';
import { createInventoryProjection, INVENTORY } from './projection.ts';
import type { InventoryQueries } from './queries.ts';
import {
  capacityCommitted,
  capacityReserved,
  nodeRegistered,
  quotaCommitted,
  quotaReserved,
  regionAdded,
  tenantCreated,
  vmCreated,
  vmStarted,
  type Given,
} from './testing.ts';

let dir: string;
let store: EventStore;
let close: () => Promise<void>;
beforeEach(() => ({ dir, store, close } = openTempEventStore('inventory-host')));
afterEach(() => close());

const append = async (...events: Given[]) => {
  let position = 0;
  for (const e of events) position = (await store.append(e.streamId, [{ type: e.type, data: e.data, metadata: { tenantId: e.type === 'TenantCreated' || e.type === 'VmCreated' ? 'acme' : null } }])).position;
  return position;
};

describe('the inventory in the projection host', () => {
  it('follows the log, and a replay into a new generation builds the same tables', async () => {
    const host = createProjectionHost({ dir: join(dir, 'projections'), source: store, projections: [createInventoryProjection()], sync: 'normal' });
    await host.start();
    const vms = Array.from({ length: 30 }, (_, i) => `v${i}`);
    let head = await append(regionAdded('eu-west'), nodeRegistered('n1', 'eu-west', { vcpus: 64 }), tenantCreated('acme', { quota: { vms: 100, vcpus: 100, memoryMiB: 1_000_000, diskGiB: 10_000 } }));
    for (const vmId of vms) {
      head = await append(
        quotaReserved('acme', `q-${vmId}`, vmId),
        capacityReserved('n1', `c-${vmId}`, vmId),
        vmCreated(vmId),
        quotaCommitted('acme', `q-${vmId}`, vmId),
        capacityCommitted('n1', `c-${vmId}`, vmId),
        vmStarted(vmId),
      );
    }
    expect(await host.waitFor(INVENTORY, head, 5000)).toBe(true);
    const snapshot = (q: InventoryQueries) => ({
      tenant: q.getTenant('acme'),
      node: q.getNode('n1'),
      region: q.getRegion('eu-west'),
      vms: q.listVms({ limit: 500 }).items,
    });
    const live = snapshot(host.queries<InventoryQueries>(INVENTORY));
    expect(live.tenant?.usage).toEqual({ vms: 30, vcpus: 60, memoryMiB: 61_440, diskGiB: 600 });
    expect(live.node?.vmIds).toHaveLength(30);
    expect(live.region?.totals).toMatchObject({ nodes: 1, vms: 30, vcpus: { capacity: 64, allocatable: 64, allocated: 60 } });
    expect(live.vms.every((v) => v.state === 'running')).toBe(true);

    const replayed = await host.replay(INVENTORY);
    expect(replayed.generation).toBe(2);
    expect(snapshot(host.queries<InventoryQueries>(INVENTORY))).toEqual(live);
    await host.stop();
  });
});
