import { describe, expect, it } from 'vitest';
import { eventTypes, type EventType } from '../../schemas/generated/events.ts';
import { samples } from '../../streams/catalog/fixtures.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { tagsOf, tagsOfBatch, type CatalogEvent } from './tags.ts';

/** The sample event of each type (streams/catalog/fixtures.ts): vm1 of tenant t1 on node n1 in eu-west, cluster c1. */
const sample = <T extends EventType>(type: T): CatalogEvent => ({ type, data: samples[type] }) as CatalogEvent;

const tenant = ['tenant:t1', 'tenants'];
const node = ['node:n1', 'nodes', 'regions'];
const region = ['region:eu-west', 'regions'];
const cluster = ['cluster:c1', 'clusters'];

/** Every event type of the catalog: a type added to the catalog fails to compile here until its tags are decided. */
const expected: Record<EventType, string[]> = {
  TenantCreated: tenant,
  TenantQuotaChanged: tenant,
  TenantSuspended: tenant,
  TenantReactivated: tenant,
  TenantDeleted: tenant,
  QuotaReserved: tenant,
  QuotaCommitted: tenant,
  QuotaReleased: tenant,
  VmCreated: ['vm:vm1', 'vms', 'vms:tenant:t1', 'vms:node:n1', 'vms:region:eu-west', 'regions'],
  VmStarted: ['vm:vm1', 'vms:state:running'],
  VmRestarted: ['vm:vm1', 'vms:state:running'],
  VmResumed: ['vm:vm1', 'vms:state:running'],
  VmStopped: ['vm:vm1', 'vms:state:stopped'],
  VmPaused: ['vm:vm1', 'vms:state:paused'],
  VmFailed: ['vm:vm1', 'vms:state:failed'],
  VmResized: ['vm:vm1'],
  VmSnapshotTaken: ['vm:vm1'],
  VmMigrationStarted: ['vm:vm1', 'vms:state:migrating'],
  VmMigrationFailed: ['vm:vm1', 'vms:state:running', 'vms:state:stopped'],
  VmMigrationCompleted: ['vm:vm1', 'vms:state:running', 'vms:state:stopped', 'vms:node:n2', 'vms:regions', 'regions'],
  VmDeleted: ['vm:vm1', 'vms', 'vms:tenant:t1', 'vms:node:n1', 'vms:state:deleted', 'regions'],
  NodeRegistered: node,
  NodeCapacityChanged: node,
  NodeCordoned: node,
  NodeUncordoned: node,
  NodeDrainStarted: node,
  NodeFailed: node,
  NodeDecommissioned: node,
  CapacityReserved: node,
  CapacityCommitted: node,
  CapacityReleased: node,
  RegionAdded: region,
  RegionUpdated: region,
  RegionRetired: region,
  ClusterJoined: cluster,
  ClusterLeft: cluster,
  ClusterHealthReported: cluster,
  CapacityShortfallForecast: ['forecast:eu-west'],
  AuditRecorded: [],
};

describe('cache tags of every event type of the catalog', () => {
  it('the table covers the catalog', () => {
    expect(Object.keys(expected).sort()).toEqual([...eventTypes].sort());
  });
  for (const type of eventTypes) {
    it(type, () => {
      expect(tagsOf(sample(type)).sort()).toEqual([...expected[type]].sort());
    });
  }
});

describe('tagsOfBatch', () => {
  const recorded = (type: string, data: Record<string, unknown>, position: number): RecordedEvent => ({
    streamId: 'x-1',
    revision: position - 1,
    position,
    type,
    data,
    metadata: { eventId: `e${position}`, tenantId: null, correlationId: 'c', causationId: null, actor: 'system:test', occurredAt: '2030-01-01T00:00:00Z', schemaVersion: 1 },
    recordedAt: '2030-01-01T00:00:00Z',
  });
  it('each tag once; a type the code does not know has none', () => {
    const tags = tagsOfBatch([
      recorded('VmStarted', samples.VmStarted, 1),
      recorded('VmStopped', samples.VmStopped, 2),
      recorded('SomethingNew', { vmId: 'vm1' }, 3),
    ]);
    expect(tags.sort()).toEqual(['vm:vm1', 'vms:state:running', 'vms:state:stopped']);
  });
});
