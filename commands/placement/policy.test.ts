import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FleetDirectory, PlacementNode } from './directory.ts';
import { candidatesInOrder, EQUALLY_GOOD, freeRoom, rankCandidates, type PlacementPolicy } from './policy.ts';

const node = (nodeId: string, usedVcpus: number, { vcpus = 100, overcommitRatio = 1, regionId = 'r1' } = {}): PlacementNode => ({
  nodeId,
  regionId,
  clusterId: null,
  status: 'active',
  capacity: { vcpus, memoryMiB: 1_000_000, diskGiB: 1_000_000 },
  overcommitRatio,
  used: { vcpus: usedVcpus, memoryMiB: 0, diskGiB: 0 },
  reservations: {},
});

/** A directory over a fixed list of nodes (a test double of the fleet's view). */
const directoryOf = (nodes: PlacementNode[]): FleetDirectory => ({
  refresh: async () => {},
  node: (id) => nodes.find((n) => n.nodeId === id),
  nodes: () => nodes,
  region: (regionId) => ({ regionId, retired: false }),
  cluster: () => undefined,
});

const want = { vcpus: 1, memoryMiB: 512, diskGiB: 10 };
const rank = (nodes: PlacementNode[], policy: PlacementPolicy, random?: () => number) =>
  rankCandidates(directoryOf(nodes), { regionIds: ['r1'], resources: want, policy }, random).map((n) => n.nodeId);

describe('placement policies', () => {
  it('balanced: least utilized first; consolidated: most utilized that fits first; performance: lowest overcommit, then most free vCPUs', () => {
    const nodes = [node('a', 50), node('b', 10), node('c', 90), node('d', 100)];
    expect(rank(nodes, 'balanced')).toEqual(['b', 'a', 'c']);
    expect(rank(nodes, 'consolidated')).toEqual(['c', 'a', 'b']);
    const mixed = [node('x', 10, { overcommitRatio: 2 }), node('y', 60), node('z', 20)];
    expect(rank(mixed, 'performance')).toEqual(['z', 'y', 'x']);
  });

  it('hands out the candidates lazily in the same order: a caller that stops at the first gets rankCandidates\' first', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => node(`n${i}`, i % 7 === 0 ? 0 : (i * 13) % 90));
    const seeded = () => {
      let x = 42;
      return () => ((x = (x * 16807) % 2147483647) / 2147483647);
    };
    for (const policy of ['balanced', 'consolidated', 'performance'] as const) {
      const query = { regionIds: ['r1'], resources: want, policy };
      const all = rankCandidates(directoryOf(nodes), query, seeded()).map((n) => n.nodeId);
      const lazy = candidatesInOrder(directoryOf(nodes), query, seeded());
      const firstTwo = [lazy.next().value?.nodeId, lazy.next().value?.nodeId];
      expect(firstTwo).toEqual(all.slice(0, 2));
      expect([...candidatesInOrder(directoryOf(nodes), query, seeded())].map((n) => n.nodeId)).toEqual(all);
    }
  });

  it('spreads over the nodes that fit equally well: concurrent creations do not all go to one node', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => node(`n${String(i).padStart(4, '0')}`, i < 500 ? 0 : 30));
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) firsts.add(rank(nodes, 'balanced')[0] as string);
    // 200 picks over 500 equally good nodes: far more than one (duplicates are expected, ~165 distinct).
    expect(firsts.size).toBeGreaterThan(100);
    // Never one of the busier half while an emptier node fits.
    expect([...firsts].every((id) => Number(id.slice(1)) < 500)).toBe(true);
  });

  it('property: the first candidate is within EQUALLY_GOOD of the best, and after the equally good the order is the policy\'s', () => {
    const fleet = fc.array(fc.record({ used: fc.integer({ min: 0, max: 100 }), vcpus: fc.integer({ min: 1, max: 200 }), ratio: fc.constantFrom(1, 1.5, 2) }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(fleet, fc.constantFrom<PlacementPolicy>('balanced', 'consolidated', 'performance'), fc.double({ min: 0, max: 0.999, noNaN: true }), (specs, policy, r) => {
        const nodes = specs.map((s, i) => node(`n${i}`, Math.min(s.used, s.vcpus), { vcpus: s.vcpus, overcommitRatio: s.ratio }));
        const ranked = rankCandidates(directoryOf(nodes), { regionIds: ['r1'], resources: want, policy }, () => r);
        const fitting = nodes.filter((n) => freeRoom(n).vcpus >= 1);
        expect(new Set(ranked.map((n) => n.nodeId))).toEqual(new Set(fitting.map((n) => n.nodeId)));
        if (ranked.length === 0) return;
        const utilization = (n: PlacementNode) => (Math.floor(n.capacity.vcpus * n.overcommitRatio + 1e-9) - freeRoom(n).vcpus + 1) / Math.floor(n.capacity.vcpus * n.overcommitRatio + 1e-9);
        const first = ranked[0] as PlacementNode;
        if (policy === 'balanced') expect(utilization(first)).toBeLessThanOrEqual(Math.min(...fitting.map(utilization)) + EQUALLY_GOOD + 1e-12);
        if (policy === 'consolidated') expect(utilization(first)).toBeGreaterThanOrEqual(Math.max(...fitting.map(utilization)) - EQUALLY_GOOD - 1e-12);
        if (policy === 'performance') expect(first.overcommitRatio).toBe(Math.min(...fitting.map((n) => n.overcommitRatio)));
      }),
      { numRuns: 300 },
    );
  });
});
