import { afterEach, describe, expect, it } from 'vitest';
import { haversineKm, ROUTING_STRATEGIES } from './model/index.ts';
import { ev, routingTable } from './test-events.ts';

const paris = { lat: 48.8566, lon: 2.3522 };
let table: ReturnType<typeof routingTable>;
afterEach(async () => table?.close());

/** Three regions with a healthy cluster and a 100-vCPU node each; acme may use the two in Europe. */
async function given(...more: Parameters<typeof table.apply>) {
  table = routingTable();
  await table.apply(
    ev.regionAdded('eu-west', 53.35, -6.26, 0.048),
    ev.regionAdded('eu-central', 50.11, 8.68, 0.055),
    ev.regionAdded('us-east', 38.95, -77.45, 0.04),
    ...['eu-west', 'eu-central', 'us-east'].flatMap((r) => [ev.clusterJoined(`${r}-c1`, r), ev.nodeRegistered(`${r}-n1`, r, 100)]),
    ev.tenantCreated('acme', ['eu-west', 'eu-central']),
    ...more,
  );
  return table.queries;
}
const routeOf = (strategy: (typeof ROUTING_STRATEGIES)[number] = 'geo-proximity', tenantId = 'acme') =>
  table.queries.route(tenantId, paris, { strategy });

describe('routing-table: the state', () => {
  it('given regions, clusters and nodes, keeps per region its coordinates, cost, healthy clusters and vCPUs', async () => {
    const q = await given(ev.nodeRegistered('eu-west-n2', 'eu-west', 50, 1.5), ev.clusterJoined('eu-west-c2', 'eu-west'));
    expect(q.regions().find((r) => r.regionId === 'eu-west')).toEqual({
      regionId: 'eu-west',
      lat: 53.35,
      lon: -6.26,
      costPerVcpuHour: 0.048,
      retired: false,
      healthyClusters: 2,
      allocatedVcpus: 0,
      capacityVcpus: 175,
    });
    expect(q.tenant('acme')).toEqual({ tenantId: 'acme', allowedRegions: ['eu-west', 'eu-central'] });
  });

  it('counts vCPUs once committed, gives them back on release, and drops a node that failed or was decommissioned', async () => {
    const q = await given(ev.reserved('eu-west-n1', 'r1', 'vm-1', 8));
    const euWest = () => q.regions().find((r) => r.regionId === 'eu-west')!;
    expect(euWest().allocatedVcpus).toBe(0);
    await table.apply(ev.committed('eu-west-n1', 'r1', 'vm-1'), ev.reserved('eu-west-n1', 'r2', 'vm-2', 4), ev.committed('eu-west-n1', 'r2', 'vm-2'));
    expect(euWest().allocatedVcpus).toBe(12);
    await table.apply(ev.released('eu-west-n1', 'r1', 'vm-1', 8), ev.reserved('eu-west-n1', 'r3', 'vm-3', 2), ev.released('eu-west-n1', 'r3', 'vm-3', 2));
    expect(euWest().allocatedVcpus).toBe(4);
    await table.apply(ev.nodeCapacity('eu-west-n1', 64, 2));
    expect(euWest().capacityVcpus).toBe(128);
    await table.apply(ev.nodeRegistered('eu-west-n2', 'eu-west', 10), ev.nodeFailed('eu-west-n1'));
    expect(euWest()).toMatchObject({ capacityVcpus: 10, allocatedVcpus: 0 });
    await table.apply(ev.nodeDecommissioned('eu-west-n2'));
    expect(euWest()).toMatchObject({ capacityVcpus: 0, allocatedVcpus: 0 });
  });
});

describe('routing-table: routes', () => {
  it('routes a tenant only to its allowed regions, nearest first from Paris, and says why the others are out', async () => {
    await given();
    const answer = routeOf('geo-proximity')!;
    expect(answer.routes.map((r) => r.regionId)).toEqual(['eu-central', 'eu-west']);
    expect(answer.routes[0]!.distanceKm).toBeCloseTo(haversineKm(paris, { lat: 50.11, lon: 8.68 }), 6);
    expect(answer.routes.reduce((s, r) => s + r.weight, 0)).toBeCloseTo(1, 12);
    expect(answer.excluded).toEqual([{ regionId: 'us-east', reason: 'not-allowed' }]);
    expect(routeOf('cost')!.routes.map((r) => r.regionId)).toEqual(['eu-west', 'eu-central']);
  });

  it('when a region\'s only cluster reports unhealthy, drops it from every strategy; when it recovers, takes it back', async () => {
    await given(ev.health('eu-central-c1', 'eu-central', false));
    for (const strategy of ROUTING_STRATEGIES) {
      const answer = routeOf(strategy)!;
      expect(answer.routes.map((r) => r.regionId)).toEqual(['eu-west']);
      expect(answer.excluded).toContainEqual({ regionId: 'eu-central', reason: 'no-healthy-cluster' });
    }
    await table.apply(ev.health('eu-central-c1', 'eu-central', true));
    expect(routeOf()!.routes.map((r) => r.regionId)).toEqual(['eu-central', 'eu-west']);
    await table.apply(ev.clusterLeft('eu-central-c1', 'eu-central'));
    expect(routeOf()!.excluded).toContainEqual({ regionId: 'eu-central', reason: 'no-healthy-cluster' });
  });

  it('drops a retired region and one without headroom', async () => {
    await given(ev.regionRetired('eu-west'), ev.reserved('eu-central-n1', 'r1', 'vm-1', 96), ev.committed('eu-central-n1', 'r1', 'vm-1'));
    const answer = routeOf()!;
    expect(answer.routes).toEqual([]);
    expect(answer.excluded).toEqual([
      { regionId: 'eu-central', reason: 'no-headroom' },
      { regionId: 'eu-west', reason: 'retired' },
      { regionId: 'us-east', reason: 'not-allowed' },
    ]);
    expect(table.queries.route('acme', paris, { strategy: 'hybrid', minHeadroom: 0.01 })!.routes.map((r) => r.regionId)).toEqual(['eu-central']);
  });

  it('follows a region\'s new coordinates', async () => {
    await given(ev.regionUpdated('eu-west', { lat: 48.85, lon: 2.35 }));
    expect(routeOf()!.routes.map((r) => r.regionId)).toEqual(['eu-west', 'eu-central']);
  });

  it('knows no route for an unknown or deleted tenant, and lists allowed regions that were never added', async () => {
    await given(ev.tenantCreated('globex', ['eu-west', 'mars-1']), ev.tenantDeleted('acme'));
    expect(routeOf('geo-proximity', 'acme')).toBeNull();
    expect(routeOf('geo-proximity', 'nobody')).toBeNull();
    expect(routeOf('geo-proximity', 'globex')!.excluded).toContainEqual({ regionId: 'mars-1', reason: 'unknown' });
  });

  it('uses a latency matrix and hybrid weights when given', async () => {
    await given();
    const latency = table.queries.route('acme', { ...paris, cellId: 'cell-paris' }, {
      strategy: 'latency',
      latencyMatrix: { 'eu-west': { 'cell-paris': 9 }, 'eu-central': { 'cell-paris': 30 } },
    })!;
    expect(latency.routes.map((r) => [r.regionId, r.estLatencyMs])).toEqual([['eu-west', 9], ['eu-central', 30]]);
    const cheap = table.queries.route('acme', paris, { strategy: 'hybrid', hybridWeights: { distance: 0, latency: 0, cost: 1, load: 0 } })!;
    expect(cheap.routes[0]!.regionId).toBe('eu-west');
  });
});
