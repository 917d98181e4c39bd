import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROUTING_STRATEGIES } from './model/index.ts';
import { ev, routingTable, type DomainEvent } from './test-events.ts';

const regions = ['r0', 'r1', 'r2', 'r3'];
const clusters = ['c0', 'c1', 'c2', 'c3', 'c4'];
const nodes = ['n0', 'n1', 'n2', 'n3'];
const tenants = ['t0', 't1', 't2'];
const vms = ['v0', 'v1', 'v2'];
const reservations = ['x0', 'x1', 'x2', 'x3', 'x4'];

const pick = (xs: string[]) => fc.constantFrom(...xs);
const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lon = fc.double({ min: -180, max: 180, noNaN: true });
const vcpus = fc.integer({ min: 0, max: 64 });

/** Any interleaving of region, cluster, node, capacity and tenant events, valid or not. */
const eventArb: fc.Arbitrary<DomainEvent> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(pick(regions), lat, lon, fc.double({ min: 0, max: 1, noNaN: true })).map(([r, a, o, c]) => ev.regionAdded(r, a, o, c)) },
  { weight: 1, arbitrary: fc.tuple(pick(regions), fc.option(lat, { nil: undefined }), fc.option(lon, { nil: undefined })).map(([r, a, o]) => ev.regionUpdated(r, { ...(a === undefined ? {} : { lat: a }), ...(o === undefined ? {} : { lon: o }) })) },
  { weight: 1, arbitrary: pick(regions).map(ev.regionRetired) },
  { weight: 3, arbitrary: fc.tuple(pick(clusters), pick(regions)).map(([c, r]) => ev.clusterJoined(c, r)) },
  { weight: 1, arbitrary: fc.tuple(pick(clusters), pick(regions)).map(([c, r]) => ev.clusterLeft(c, r)) },
  { weight: 4, arbitrary: fc.tuple(pick(clusters), pick(regions), fc.boolean()).map(([c, r, h]) => ev.health(c, r, h)) },
  { weight: 3, arbitrary: fc.tuple(pick(nodes), pick(regions), vcpus, fc.constantFrom(1, 1.5, 2)).map(([n, r, v, o]) => ev.nodeRegistered(n, r, v, o)) },
  { weight: 1, arbitrary: fc.tuple(pick(nodes), vcpus).map(([n, v]) => ev.nodeCapacity(n, v)) },
  { weight: 1, arbitrary: pick(nodes).map(ev.nodeFailed) },
  { weight: 1, arbitrary: pick(nodes).map(ev.nodeDecommissioned) },
  { weight: 2, arbitrary: fc.tuple(pick(nodes), pick(reservations), pick(vms), vcpus).map(([n, x, v, c]) => ev.reserved(n, x, v, c)) },
  { weight: 2, arbitrary: fc.tuple(pick(nodes), pick(reservations), pick(vms)).map(([n, x, v]) => ev.committed(n, x, v)) },
  { weight: 1, arbitrary: fc.tuple(pick(nodes), pick(reservations), pick(vms), vcpus).map(([n, x, v, c]) => ev.released(n, x, v, c)) },
  { weight: 2, arbitrary: fc.tuple(pick(tenants), fc.subarray([...regions, 'r-never-added'])).map(([t, allowed]) => ev.tenantCreated(t, allowed)) },
  { weight: 1, arbitrary: pick(tenants).map(ev.tenantDeleted) },
);

/** What the log says, read naively: the facts the filters must respect. */
function oracle(events: readonly DomainEvent[]) {
  const added = new Set<string>();
  const retired = new Set<string>();
  const clusterState = new Map<string, { regionId: string; joined: boolean; healthy: boolean }>();
  const allowed = new Map<string, string[]>();
  for (const { type, data } of events) {
    const d = data as { regionId: string; clusterId: string; healthy: boolean; tenantId: string; allowedRegions: string[] };
    if (type === 'RegionAdded') added.add(d.regionId);
    if (type === 'RegionRetired') retired.add(d.regionId);
    if (type === 'ClusterJoined') clusterState.set(d.clusterId, { regionId: d.regionId, joined: true, healthy: true });
    const cluster = clusterState.get(d.clusterId);
    if (type === 'ClusterLeft' && cluster) cluster.joined = false;
    if (type === 'ClusterHealthReported' && cluster) cluster.healthy = d.healthy;
    if (type === 'TenantCreated') allowed.set(d.tenantId, d.allowedRegions);
    if (type === 'TenantDeleted') allowed.delete(d.tenantId);
  }
  const healthy = (regionId: string) => [...clusterState.values()].some((c) => c.joined && c.healthy && c.regionId === regionId);
  return { added, retired, allowed, healthy };
}

const clientArb = fc.record({ lat, lon, cellId: fc.constantFrom(undefined, 'cell-a') });
const optionsArb = fc.record({
  minHeadroom: fc.double({ min: 0, max: 1, noNaN: true }),
  latencyMatrix: fc.option(fc.dictionary(pick(regions), fc.dictionary(pick([...regions, 'cell-a']), fc.double({ min: 0, max: 300, noNaN: true }))), { nil: undefined }),
});
/** The events, cut into batches of 1 to 12 (one SQLite transaction each). */
const historyArb = fc.tuple(fc.array(eventArb, { minLength: 1, maxLength: 120, size: 'max' }), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 20, size: 'max' }));

describe('routing-table properties (random event sequences, through the projection)', () => {
  it('never routes a tenant to a region outside its allowed regions, a retired one or one without a healthy cluster, after any batch', async () => {
    // How often the answers were worth checking: a generator that never routes anything proves nothing.
    let answers = 0;
    let routed = 0;
    await fc.assert(
      fc.asyncProperty(historyArb, clientArb, optionsArb, async ([events, cuts], client, options) => {
        const table = routingTable();
        try {
          let applied = 0;
          for (let i = 0; applied < events.length; i++) {
            const size = cuts[i % cuts.length]!;
            await table.apply(...events.slice(applied, applied + size));
            applied += size;
            const facts = oracle(events.slice(0, applied));
            for (const tenantId of tenants) {
              for (const strategy of ROUTING_STRATEGIES) {
                const answer = table.queries.route(tenantId, client, { strategy, ...options });
                const allowed = facts.allowed.get(tenantId);
                if (allowed === undefined) {
                  expect(answer).toBeNull();
                  continue;
                }
                expect(answer).not.toBeNull();
                answers++;
                if (answer!.routes.length > 0) routed++;
                for (const { regionId } of answer!.routes) {
                  expect(allowed).toContain(regionId);
                  expect(facts.added.has(regionId)).toBe(true);
                  expect(facts.retired.has(regionId)).toBe(false);
                  expect(facts.healthy(regionId)).toBe(true);
                }
                // Every region is either routed or excluded with the first reason that applies.
                for (const { regionId, reason } of answer!.excluded) {
                  if (!facts.added.has(regionId)) expect([regionId, reason]).toEqual([regionId, 'unknown']);
                  else if (!allowed.includes(regionId)) expect(reason).toBe('not-allowed');
                  else if (facts.retired.has(regionId)) expect(reason).toBe('retired');
                  else if (!facts.healthy(regionId)) expect(reason).toBe('no-healthy-cluster');
                  else expect(['no-headroom', 'invalid']).toContain(reason);
                }
                const known = [...answer!.routes.map((r) => r.regionId), ...answer!.excluded.filter((e) => e.reason !== 'unknown').map((e) => e.regionId)];
                expect(known.sort()).toEqual([...facts.added].sort());
              }
            }
          }
        } finally {
          await table.close();
        }
      }),
      { numRuns: 100 },
    );
    expect(routed / answers).toBeGreaterThan(0.05);
  });
});
