import { describe, expect, it } from 'vitest';
import { clusterHealth, clusterJoined, clusterLeft, given, regionAdded, regionRetired, regionUpdated } from './testing.ts';

describe('inventory: a region', () => {
  it('RegionAdded: active, with its attributes and empty totals', () =>
    given()
      .when(regionAdded('eu-west', { name: 'Dublin', shards: 12 }))
      .then((q, [added]) =>
        expect(q.getRegion('eu-west')).toEqual({
          regionId: 'eu-west',
          name: 'Dublin',
          lat: 53.35,
          lon: -6.26,
          complianceZone: 'eu',
          costPerVcpuHour: 0.02,
          shards: 12,
          status: 'active',
          totals: { nodes: 0, vms: 0, vcpus: { capacity: 0, allocatable: 0, allocated: 0 }, memoryMiB: { capacity: 0, allocatable: 0, allocated: 0 } },
          createdRevision: 0,
          createdPosition: added?.position,
          createdAt: added?.metadata.occurredAt,
          revision: 0,
          position: added?.position,
          updatedAt: added?.metadata.occurredAt,
        }),
      ));
  it('RegionUpdated: what is not null changes, the rest stays', () =>
    given(regionAdded('eu-west'))
      .when(regionUpdated('eu-west', { name: 'Dublin 2', costPerVcpuHour: 0.03 }))
      .then((q) => expect(q.getRegion('eu-west')).toMatchObject({ name: 'Dublin 2', costPerVcpuHour: 0.03, lat: 53.35, shards: 100, revision: 1 })));
  it('RegionRetired: retired', () =>
    given(regionAdded('eu-west'))
      .when(regionRetired('eu-west'))
      .then((q) => {
        expect(q.getRegion('eu-west')?.status).toBe('retired');
        expect(q.listRegions({ status: 'active' }).items).toEqual([]);
      }));
  it('region events for a region never added change nothing', () =>
    given()
      .when(regionUpdated('nowhere', { name: 'x' }), regionRetired('nowhere'))
      .then((q) => expect(q.getRegion('nowhere')).toBeNull()));
});

describe('inventory: a cluster', () => {
  it('ClusterJoined: joined its region, health unknown', () =>
    given(regionAdded('eu-west'))
      .when(clusterJoined('c1', 'eu-west'))
      .then((q) => expect(q.getCluster('c1')).toMatchObject({ clusterId: 'c1', regionId: 'eu-west', status: 'joined', healthy: null, revision: 0 })));
  it('ClusterHealthReported: the last health reported', () =>
    given(regionAdded('eu-west'), clusterJoined('c1', 'eu-west'))
      .when(clusterHealth('c1', 'eu-west', false))
      .then((q) => expect(q.getCluster('c1')?.healthy).toBe(false)));
  it('ClusterLeft: left (region kept), health unknown again', () =>
    given(regionAdded('eu-west'), clusterJoined('c1', 'eu-west'), clusterHealth('c1', 'eu-west', true))
      .when(clusterLeft('c1', 'eu-west'))
      .then((q) => expect(q.getCluster('c1')).toMatchObject({ status: 'left', regionId: 'eu-west', healthy: null })));
  it('a cluster that never joined stays absent', () =>
    given()
      .when(clusterHealth('c9', 'eu-west', true), clusterLeft('c9', 'eu-west'))
      .then((q) => expect(q.getCluster('c9')).toBeNull()));
});
