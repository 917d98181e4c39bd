import { newEventId } from '../../streams/eventstore/index.ts';
import { openTempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import type { CommandContext } from '../handling/context.ts';
import { createFleetService } from './service.ts';

/** A fleet on a fresh embedded store in a temp dir, for tests. */
export function testFleet(options: { reservationTimeoutMs?: number } = {}) {
  const { dir, store, keys, close } = openTempEventStore('fleet', { sync: 'full', keyStore: 'file' });
  const fleet = createFleetService({ store, destroyTenantKey: (id) => keys.destroyDataKey(id), ...options });
  const context = (actor = 'operator:test'): CommandContext => ({ actor, correlationId: newEventId(), now: new Date() });
  return {
    dir,
    store,
    keys,
    fleet,
    context,
    close,
  };
}

/** A region with one cluster and `nodes` nodes of the given size, and one tenant allowed there. */
export async function seedFleet(
  t: ReturnType<typeof testFleet>,
  { nodes = 1, nodeVcpus = 16, nodeMemoryMiB = 65536, nodeDiskGiB = 2000, quota = { vms: 10, vcpus: 64, memoryMiB: 262144, diskGiB: 4000 }, tenantId = 'acme', regionId = 'eu-west' } = {},
) {
  const ctx = t.context();
  await t.fleet.execute('region', regionId, {
    type: 'AddRegion',
    data: { regionId, name: regionId, lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02 },
  }, ctx);
  await t.fleet.joinCluster(ctx, { clusterId: `${regionId}-c1`, regionId });
  for (let i = 0; i < nodes; i++) {
    await t.fleet.registerNode(ctx, {
      nodeId: `${regionId}-n${i}`,
      regionId,
      clusterId: `${regionId}-c1`,
      capacity: { vcpus: nodeVcpus, memoryMiB: nodeMemoryMiB, diskGiB: nodeDiskGiB },
    });
  }
  await t.fleet.createTenant(ctx, { tenantId, name: 'Acme', contactEmail: 'ops@acme.example', quota, allowedRegions: [regionId] });
  return { tenantId, regionId };
}
