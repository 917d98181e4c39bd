import { LRUCache } from 'lru-cache';
import { parseStreamId, type EventStore, type RecordedEvent } from '../../streams/eventstore/index.ts';

export interface Ownership {
  /** The tenant an event belongs to, or null for fleet events (nodes, regions, clusters, forecasts). */
  ownerOf(event: RecordedEvent): Promise<string | null>;
}

const NONE = '';

/**
 * Which tenant an event belongs to: its `metadata.tenantId` when set;
 * otherwise the tenant of its stream, since some commands on a tenant's own
 * streams are recorded without one (quota reservations of the saga, a VM failed
 * by its node's failure, a tenant suspended or deleted by an operator):
 * `tenant-<id>` belongs to `<id>`, `vm-<id>` to the tenant recorded on the VM's
 * stream (looked up once per VM, kept in a bounded LRU). Every other event
 * belongs to no tenant.
 */
export function createOwnership({ store, cacheSize = 10_000 }: { store: EventStore; cacheSize?: number }): Ownership {
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new RangeError('createOwnership: cacheSize must be a positive integer');
  // VM stream id → its tenant ('' when the stream names none); a VM never changes hands.
  const vmOwners = new LRUCache<string, string>({ max: cacheSize });

  async function vmOwner(streamId: string): Promise<string | null> {
    let owner = vmOwners.get(streamId);
    if (owner === undefined) {
      try {
        const first = await store.readStream(streamId, { maxCount: 16 });
        owner = first.find((event) => event.metadata.tenantId)?.metadata.tenantId ?? NONE;
      } catch {
        // A tombstoned stream (or one that cannot be read): nobody's, so only operators see it.
        owner = NONE;
      }
      vmOwners.set(streamId, owner);
    }
    return owner === NONE ? null : owner;
  }

  return {
    async ownerOf(event) {
      const { category, id } = parseStreamId(event.streamId);
      const recorded = event.metadata.tenantId;
      if (recorded) {
        if (category === 'vm') vmOwners.set(event.streamId, recorded);
        return recorded;
      }
      if (category === 'tenant') return id;
      if (category === 'vm') return vmOwner(event.streamId);
      return null;
    },
  };
}
