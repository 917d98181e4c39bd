import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import type { BatchReads } from './state.ts';
import { asInventoryEvent, type InventoryEvent } from './types.ts';

/**
 * The rows the rules of apply.ts will read for `batch`: its streams'
 * revisions, the entity each event is about and the ledger entries its
 * reservation events name. A hint, read in a few statements before the batch
 * starts: a row it misses is read when a rule asks for it, and an event whose
 * data cannot be decoded is left to its rule. Regions and clusters (rare) are
 * not prefetched.
 */
export function readsOf(batch: readonly RecordedEvent[]): BatchReads {
  const reads: BatchReads = { streams: new Set(), vms: new Set(), tenants: new Set(), nodes: new Set(), pending: new Map(), held: new Map() };
  // Only string ids: anything else (data no schema allows) is left to the rule, which fails on it as it would without prefetching.
  const add = (ids: Set<string>, id: unknown) => {
    if (typeof id === 'string') ids.add(id);
  };
  const ledger = (kind: 'tenant' | 'node', ownerId: unknown, reservationId: unknown, vmId: unknown) => {
    if (typeof ownerId !== 'string' || typeof reservationId !== 'string' || typeof vmId !== 'string') return;
    const owner = `${kind}:${ownerId}`;
    let pending = reads.pending.get(owner);
    if (!pending) reads.pending.set(owner, (pending = new Set()));
    pending.add(reservationId);
    let held = reads.held.get(owner);
    if (!held) reads.held.set(owner, (held = new Set()));
    held.add(vmId);
  };
  for (const recorded of batch) {
    const event = asInventoryEvent(recorded);
    if (event === null) continue;
    reads.streams.add(event.streamId);
    try {
      keysOf(event);
    } catch {
      // Data that cannot be decoded: the rule that needs it throws when it applies the event (and only if it does), as without prefetching.
    }
  }
  return reads;

  function keysOf(event: InventoryEvent): void {
    switch (event.type) {
      case 'QuotaReserved':
      case 'QuotaCommitted':
      case 'QuotaReleased':
        ledger('tenant', event.data.tenantId, event.data.reservationId, event.data.vmId);
        add(reads.tenants, event.data.tenantId);
        break;
      case 'CapacityReserved':
      case 'CapacityCommitted':
      case 'CapacityReleased':
        ledger('node', event.data.nodeId, event.data.reservationId, event.data.vmId);
        add(reads.nodes, event.data.nodeId);
        break;
      case 'TenantCreated':
      case 'TenantQuotaChanged':
      case 'TenantSuspended':
      case 'TenantReactivated':
      case 'TenantDeleted':
        add(reads.tenants, event.data.tenantId);
        break;
      case 'NodeRegistered':
      case 'NodeCapacityChanged':
      case 'NodeCordoned':
      case 'NodeUncordoned':
      case 'NodeDrainStarted':
      case 'NodeFailed':
      case 'NodeDecommissioned':
        add(reads.nodes, event.data.nodeId);
        break;
      case 'RegionAdded':
      case 'RegionUpdated':
      case 'RegionRetired':
      case 'ClusterJoined':
      case 'ClusterLeft':
      case 'ClusterHealthReported':
        break;
      default:
        add(reads.vms, event.data.vmId);
    }
  }
}
