import { describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../../streams/errors/index.ts';
import { exclusionReason } from './eligibility.ts';
import { everyRegion, paris, region, world } from './fixtures.ts';
import { routeRegions } from './route.ts';
import type { RouteOptions, RoutingStrategy } from './types.ts';

const order = (options: RouteOptions, regions = world, tenant = everyRegion, client = paris) =>
  routeRegions(regions, tenant, client, options).map((e) => e.regionId);

describe('routeRegions', () => {
  it('geo-proximity: nearest first by great-circle distance', () => {
    expect(order({ strategy: 'geo-proximity' })).toEqual(['eu-west-2', 'eu-central-1', 'eu-west-1', 'us-east-1', 'ap-southeast-1']);
  });

  it('latency: by the distance model without a matrix, by the matrix when it has measurements', () => {
    expect(order({ strategy: 'latency' })).toEqual(order({ strategy: 'geo-proximity' }));
    const latencyMatrix = { 'eu-west-1': { 'cell-paris': 9 }, 'eu-west-2': { 'cell-paris': 30 } };
    const route = routeRegions(world, everyRegion, { ...paris, cellId: 'cell-paris' }, { strategy: 'latency', latencyMatrix });
    expect(route.slice(0, 3).map((e) => [e.regionId, e.estLatencyMs])).toEqual([
      ['eu-west-1', 9],
      ['eu-central-1', expect.closeTo(5 + (478 / 100) * 1.5, 0)],
      ['eu-west-2', 30],
    ]);
  });

  it('cost: cheapest per vCPU-hour first', () => {
    expect(order({ strategy: 'cost' })).toEqual(['us-east-1', 'eu-west-1', 'eu-west-2', 'eu-central-1', 'ap-southeast-1']);
  });

  it('least-loaded: lowest utilization first', () => {
    const route = routeRegions(world, everyRegion, paris, { strategy: 'least-loaded' });
    expect(route.map((e) => [e.regionId, e.score])).toEqual([
      ['ap-southeast-1', 0.1],
      ['eu-central-1', 0.2],
      ['eu-west-2', 0.5],
      ['eu-west-1', 0.7],
      ['us-east-1', 0.85],
    ]);
  });

  it('hybrid: a single weighted component orders like that strategy; mixed weights trade them off', () => {
    const only = (k: 'distance' | 'latency' | 'cost' | 'load') => ({ distance: 0, latency: 0, cost: 0, load: 0, [k]: 1 });
    expect(order({ strategy: 'hybrid', hybridWeights: only('cost') })).toEqual(order({ strategy: 'cost' }));
    expect(order({ strategy: 'hybrid', hybridWeights: only('load') })).toEqual(order({ strategy: 'least-loaded' }));
    expect(order({ strategy: 'hybrid', hybridWeights: only('distance') })).toEqual(order({ strategy: 'geo-proximity' }));
    const route = routeRegions(world, everyRegion, paris, { strategy: 'hybrid' });
    expect(route[0]?.regionId).toBe('eu-central-1'); // near, lightly loaded: beats nearer but busier London
    for (const e of route) expect(e.score >= 0 && e.score <= 1).toBe(true);
  });

  it('gives weights that sum to 1, primary heaviest, equal scores equal weights', () => {
    const route = routeRegions(world, everyRegion, paris, { strategy: 'geo-proximity' });
    expect(route.reduce((s, e) => s + e.weight, 0)).toBeCloseTo(1, 12);
    expect(route[0]!.weight).toBeGreaterThan(route[1]!.weight);
    const twins = [region('b', 0, 0), region('a', 0, 0)];
    const tied = routeRegions(twins, { allowedRegions: ['a', 'b'] }, paris, { strategy: 'cost' });
    expect(tied.map((e) => [e.regionId, e.weight])).toEqual([
      ['a', 0.5],
      ['b', 0.5],
    ]);
    expect(routeRegions([world[0]!], everyRegion, paris, { strategy: 'cost' })[0]!.weight).toBe(1);
  });

  it('lower temperature puts more weight on the primary', () => {
    const hot = routeRegions(world, everyRegion, paris, { strategy: 'cost', temperature: 1 });
    const cold = routeRegions(world, everyRegion, paris, { strategy: 'cost', temperature: 0.02 });
    expect(cold[0]!.weight).toBeGreaterThan(hot[0]!.weight);
  });

  it('filters before ranking: allowed regions, retired, unhealthy, headroom', () => {
    const regions = [
      ...world.slice(0, 2),
      region('retired', 48.9, 2.4, { retired: true }),
      region('sick', 48.9, 2.4, { healthyClusters: 0 }),
      region('full', 48.9, 2.4, { allocatedVcpus: 960 }),
      region('empty', 48.9, 2.4, { capacityVcpus: 0, allocatedVcpus: 0 }),
      region('elsewhere', 48.9, 2.4),
    ];
    const tenant = { allowedRegions: ['eu-west-1', 'eu-west-2', 'retired', 'sick', 'full', 'empty', 'unknown'] };
    for (const strategy of ['geo-proximity', 'latency', 'cost', 'least-loaded', 'hybrid'] as RoutingStrategy[]) {
      expect(order({ strategy }, regions, tenant).sort()).toEqual(['eu-west-1', 'eu-west-2']);
    }
    expect(regions.map((r) => exclusionReason(r, tenant, 0.05))).toEqual([null, null, 'retired', 'no-healthy-cluster', 'no-headroom', 'no-headroom', 'not-allowed']);
    expect(order({ strategy: 'cost', minHeadroom: 0.01 }, regions, tenant)).toContain('full');
    expect(order({ strategy: 'cost' }, regions, { allowedRegions: [] })).toEqual([]);
  });

  it.each([
    [{ strategy: 'fastest' as RoutingStrategy }, paris, 'strategy'],
    [{ strategy: 'cost' as const }, { lat: 91, lon: 0 }, 'client.lat'],
    [{ strategy: 'cost' as const }, { lat: 0, lon: Number.NaN }, 'client.lon'],
    [{ strategy: 'cost' as const, minHeadroom: 1.5 }, paris, 'minHeadroom'],
    [{ strategy: 'cost' as const, temperature: 0 }, paris, 'temperature'],
    [{ strategy: 'hybrid' as const, hybridWeights: { distance: 0, latency: 0, cost: 0, load: 0 } }, paris, 'hybridWeights'],
    [{ strategy: 'hybrid' as const, hybridWeights: { distance: -1, latency: 1, cost: 0, load: 0 } }, paris, 'hybridWeights'],
  ])('rejects %j at %j naming %s', (options, client, field) => {
    let thrown: unknown;
    try {
      routeRegions(world, everyRegion, client, options);
    } catch (error) {
      thrown = error;
    }
    expect(isNovaCronError(thrown, 'NC_VALIDATION')).toBe(true);
    expect(thrown).toMatchObject({ details: { field } });
  });
});
