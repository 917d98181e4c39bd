import { newEventId } from '../new-event.ts';
import type { NewEvent } from '../port.ts';

/** Small, valid events of the real catalog, for the contract suite. */
export const clusterHealth = (clusterId: string, healthy: boolean, tenantId: string | null = null): NewEvent => ({
  type: 'ClusterHealthReported',
  data: { clusterId, regionId: 'eu-west', healthy, detail: null },
  metadata: { eventId: newEventId(), tenantId, actor: 'system:test' },
});

export const tenantCreated = (tenantId: string, contactEmail: string): NewEvent => ({
  type: 'TenantCreated',
  data: {
    tenantId,
    name: `Tenant ${tenantId}`,
    contactEmail,
    quota: { vms: 10, vcpus: 40, memoryMiB: 81920, diskGiB: 1000 },
    allowedRegions: ['eu-west', 'us-east'],
  },
  metadata: { eventId: newEventId(), tenantId, actor: 'operator:test' },
});

export const regionAdded = (regionId: string): NewEvent => ({
  type: 'RegionAdded',
  data: { regionId, name: regionId, lat: 53.3, lon: -6.2, complianceZone: 'eu', costPerVcpuHour: 0.021, shards: 100 },
  metadata: { eventId: newEventId(), actor: 'operator:test' },
});

/** A fresh stream id, so tests never share streams. */
export const uniqueStream = (category: string): string => `${category}-${newEventId()}`;

/** The same events with the same ids (a client retrying). */
export const sameEvents = (events: readonly NewEvent[]): NewEvent[] => events.map((e) => ({ ...e, metadata: { ...e.metadata } }));
