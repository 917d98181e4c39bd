import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routeRegions } from './route.ts';
import { ROUTING_STRATEGIES, type RouteOptions, type RoutingRegion } from './types.ts';

const ids = Array.from({ length: 24 }, (_, i) => `r${i}`);
const coordinate = (max: number) => fc.double({ min: -max, max, noNaN: true });

const regionArb = (regionId: string): fc.Arbitrary<RoutingRegion> =>
  fc
    .record({
      lat: coordinate(90),
      lon: coordinate(180),
      costPerVcpuHour: fc.double({ min: 0, max: 5, noNaN: true }),
      retired: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      healthyClusters: fc.integer({ min: 0, max: 3 }),
      capacityVcpus: fc.integer({ min: 0, max: 10_000 }),
      load: fc.double({ min: 0, max: 1.1, noNaN: true }),
    })
    .map(({ load, ...r }) => ({ regionId, ...r, allocatedVcpus: Math.round(r.capacityVcpus * load) }));

const regionsArb = fc.subarray(ids, { minLength: 0, maxLength: 20 }).chain((chosen) => fc.tuple(...chosen.map(regionArb)));
const tenantArb = fc.record({ allowedRegions: fc.subarray([...ids, 'not-a-region']) });
const clientArb = fc.record({ lat: coordinate(90), lon: coordinate(180), cellId: fc.constantFrom(undefined, 'cell-a') });
const matrixArb = fc.option(
  fc.dictionary(fc.constantFrom(...ids), fc.dictionary(fc.constantFrom(...ids, 'cell-a'), fc.double({ min: 0, max: 400, noNaN: true }))),
  { nil: undefined },
);
const optionsArb = fc.record({
  minHeadroom: fc.double({ min: 0, max: 1, noNaN: true }),
  latencyMatrix: matrixArb,
  hybridWeights: fc
    .record({ distance: fc.double({ min: 0, max: 1, noNaN: true }), latency: fc.double({ min: 0, max: 1, noNaN: true }), cost: fc.double({ min: 0, max: 1, noNaN: true }), load: fc.double({ min: 0.01, max: 1, noNaN: true }) }),
  temperature: fc.constantFrom(undefined, 0.02, 0.1, 1),
});
const withStrategies = <T extends Omit<RouteOptions, 'strategy'>>(options: T) => ROUTING_STRATEGIES.map((strategy) => ({ ...options, strategy }));

describe('routeRegions properties (every strategy)', () => {
  it('answers only allowed, active, healthy regions with enough headroom', () => {
    fc.assert(
      fc.property(regionsArb, tenantArb, clientArb, optionsArb, (regions, tenant, client, options) => {
        const byId = new Map(regions.map((r) => [r.regionId, r]));
        for (const opts of withStrategies(options)) {
          const route = routeRegions(regions, tenant, client, opts);
          for (const { regionId } of route) {
            const r = byId.get(regionId)!;
            expect(tenant.allowedRegions).toContain(regionId);
            expect(r.retired).toBe(false);
            expect(r.healthyClusters).toBeGreaterThanOrEqual(1);
            expect(1 - r.allocatedVcpus / r.capacityVcpus).toBeGreaterThanOrEqual(opts.minHeadroom);
          }
          const eligible = regions.filter(
            (r) => tenant.allowedRegions.includes(r.regionId) && !r.retired && r.healthyClusters >= 1 && r.capacityVcpus > 0 && 1 - r.allocatedVcpus / r.capacityVcpus >= opts.minHeadroom,
          );
          expect(route.map((e) => e.regionId).sort()).toEqual(eligible.map((r) => r.regionId).sort());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives weights that sum to 1 (±1e-9), never increase, and scores that never decrease', () => {
    fc.assert(
      fc.property(regionsArb, clientArb, optionsArb, (regions, client, options) => {
        const tenant = { allowedRegions: ids };
        for (const opts of withStrategies({ ...options, minHeadroom: 0 })) {
          const route = routeRegions(regions, tenant, client, opts);
          if (route.length === 0) continue;
          expect(Math.abs(route.reduce((s, e) => s + e.weight, 0) - 1)).toBeLessThanOrEqual(1e-9);
          for (let i = 1; i < route.length; i++) {
            expect(route[i]!.weight).toBeLessThanOrEqual(route[i - 1]!.weight);
            expect(route[i]!.score).toBeGreaterThanOrEqual(route[i - 1]!.score);
          }
          for (const e of route) expect(e.weight > 0 && Number.isFinite(e.score) && e.distanceKm >= 0 && e.estLatencyMs >= 0).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("removes a region from every route once its clusters are unhealthy, leaving the others' order (hybrid renormalizes)", () => {
    fc.assert(
      fc.property(
        regionsArb.filter((rs) => rs.length > 0),
        clientArb,
        optionsArb,
        fc.nat(),
        (regions, client, options, pick) => {
          const tenant = { allowedRegions: ids };
          const sick = regions[pick % regions.length]!;
          const after = regions.map((r) => (r === sick ? { ...r, healthyClusters: 0 } : r));
          for (const opts of withStrategies(options)) {
            const before = routeRegions(regions, tenant, client, opts).map((e) => e.regionId);
            const now = routeRegions(after, tenant, client, opts).map((e) => e.regionId);
            expect(now).not.toContain(sick.regionId);
            if (opts.strategy !== 'hybrid') expect(now).toEqual(before.filter((id) => id !== sick.regionId));
            else expect(now.sort()).toEqual(before.filter((id) => id !== sick.regionId).sort());
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is deterministic and does not depend on the order regions are given in', () => {
    fc.assert(
      fc.property(regionsArb, clientArb, optionsArb, (regions, client, options) => {
        const tenant = { allowedRegions: ids };
        for (const opts of withStrategies(options)) {
          const a = routeRegions(regions, tenant, client, opts);
          const b = routeRegions([...regions].reverse(), tenant, client, opts);
          expect(b.map((e) => e.regionId)).toEqual(a.map((e) => e.regionId));
        }
      }),
      { numRuns: 200 },
    );
  });
});
