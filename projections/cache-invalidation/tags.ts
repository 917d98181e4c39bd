/**
 * Cache tags: the names of what a cached query result was read from, and the
 * pure function from an event to the tags whose results it may change. A query
 * result is tagged with every tag it depends on; an event publishes its tags;
 * every entry carrying one of them is evicted.
 *
 * Entities: `vm:<id>`, `tenant:<id>`, `node:<id>`, `region:<id>`, `cluster:<id>`,
 * `forecast:<regionId>` — a result that shows an entity carries its tag, and
 * every event of the entity's stream publishes it.
 *
 * Lists: `tenants`, `nodes`, `regions`, `clusters` (every list of that kind);
 * VM lists are scoped, because VMs are many: `vms` (unfiltered), `vms:tenant:<id>`,
 * `vms:node:<id>`, `vms:region:<id>`, `vms:state:<state>`, and `vms:regions`
 * (every region-filtered list). A VM list carries the `vm:<id>` of each VM it
 * shows (so any change to one of them, including leaving the list, evicts it)
 * plus the tags of its filters (so a VM entering it evicts it): VmCreated names
 * its tenant, node and region; a state change names the state entered; a
 * completed migration names the target node and, not knowing the target
 * region, `vms:regions`.
 *
 * Region totals (nodes, VMs, vCPUs) change with node, capacity and VM
 * membership events, which do not all name the region: those publish `regions`,
 * which region lists carry.
 */
import type { EventDataMap, EventType } from '../../schemas/generated/events.ts';
import { eventTypes } from '../../schemas/generated/events.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';

export const tag = {
  vm: (vmId: string) => `vm:${vmId}`,
  tenant: (tenantId: string) => `tenant:${tenantId}`,
  node: (nodeId: string) => `node:${nodeId}`,
  region: (regionId: string) => `region:${regionId}`,
  cluster: (clusterId: string) => `cluster:${clusterId}`,
  forecast: (regionId: string) => `forecast:${regionId}`,
  /** The unfiltered VM list. */
  vms: 'vms',
  vmsOfTenant: (tenantId: string) => `vms:tenant:${tenantId}`,
  vmsOnNode: (nodeId: string) => `vms:node:${nodeId}`,
  vmsInRegion: (regionId: string) => `vms:region:${regionId}`,
  vmsInState: (state: string) => `vms:state:${state}`,
  /** Every region-filtered VM list. */
  vmsInAnyRegion: 'vms:regions',
  tenants: 'tenants',
  nodes: 'nodes',
  regions: 'regions',
  clusters: 'clusters',
} as const;

/** An event of the catalog, typed by its `type`. */
export type CatalogEvent = { [K in EventType]: { type: K; data: EventDataMap[K] } }[EventType];

/** The tags whose cached results `event` may change. */
export function tagsOf(event: CatalogEvent): string[] {
  switch (event.type) {
    case 'TenantCreated':
    case 'TenantQuotaChanged':
    case 'TenantSuspended':
    case 'TenantReactivated':
    case 'TenantDeleted':
    case 'QuotaReserved':
    case 'QuotaCommitted':
    case 'QuotaReleased':
      return [tag.tenant(event.data.tenantId), tag.tenants];

    case 'VmCreated': {
      const { vmId, tenantId, nodeId, regionId } = event.data;
      return [tag.vm(vmId), tag.vms, tag.vmsOfTenant(tenantId), tag.vmsOnNode(nodeId), tag.vmsInRegion(regionId), tag.regions];
    }
    case 'VmStarted':
    case 'VmRestarted':
    case 'VmResumed':
      return [tag.vm(event.data.vmId), tag.vmsInState('running')];
    case 'VmStopped':
      return [tag.vm(event.data.vmId), tag.vmsInState('stopped')];
    case 'VmPaused':
      return [tag.vm(event.data.vmId), tag.vmsInState('paused')];
    case 'VmFailed':
      return [tag.vm(event.data.vmId), tag.vmsInState('failed')];
    case 'VmMigrationStarted':
      return [tag.vm(event.data.vmId), tag.vmsInState('migrating')];
    case 'VmMigrationFailed':
      // Back to running or stopped, whichever it migrated from.
      return [tag.vm(event.data.vmId), tag.vmsInState('running'), tag.vmsInState('stopped')];
    case 'VmMigrationCompleted':
      // Back to running or stopped, on the target node, maybe in another region (the event does not say which).
      return [tag.vm(event.data.vmId), tag.vmsInState('running'), tag.vmsInState('stopped'), tag.vmsOnNode(event.data.targetNodeId), tag.vmsInAnyRegion, tag.regions];
    case 'VmDeleted': {
      const { vmId, tenantId, nodeId } = event.data;
      return [tag.vm(vmId), tag.vms, tag.vmsOfTenant(tenantId), tag.vmsOnNode(nodeId), tag.vmsInState('deleted'), tag.regions];
    }
    case 'VmResized':
    case 'VmSnapshotTaken':
      return [tag.vm(event.data.vmId)];

    case 'NodeRegistered':
      return [tag.node(event.data.nodeId), tag.nodes, tag.regions];
    case 'NodeCapacityChanged':
    case 'NodeCordoned':
    case 'NodeUncordoned':
    case 'NodeDrainStarted':
    case 'NodeFailed':
    case 'NodeDecommissioned':
    case 'CapacityReserved':
    case 'CapacityCommitted':
    case 'CapacityReleased':
      return [tag.node(event.data.nodeId), tag.nodes, tag.regions];

    case 'RegionAdded':
    case 'RegionUpdated':
    case 'RegionRetired':
      return [tag.region(event.data.regionId), tag.regions];

    case 'ClusterJoined':
    case 'ClusterLeft':
    case 'ClusterHealthReported':
      return [tag.cluster(event.data.clusterId), tag.clusters];

    case 'CapacityShortfallForecast':
      return [tag.forecast(event.data.regionId)];

    case 'AuditRecorded':
      // The audit trail is read from the log, never from a cached query.
      return [];

    default: {
      const never: never = event;
      throw new TypeError(`cache invalidation: no tags for ${(never as { type: string }).type}`);
    }
  }
}

const KNOWN: ReadonlySet<string> = new Set(eventTypes);

/**
 * The tags of a batch of recorded events, each once. Sound narrowing: the store
 * validated each event's data against its Avro schema. A type this code does
 * not know (a newer producer) has no tags.
 */
export function tagsOfBatch(batch: readonly RecordedEvent[]): string[] {
  const tags = new Set<string>();
  for (const event of batch) {
    if (!KNOWN.has(event.type)) continue;
    for (const t of tagsOf(event as unknown as CatalogEvent)) tags.add(t);
  }
  return [...tags];
}
