/** Test helpers: recorded node events at given instants, and the projection folded over them in memory. */
import type { EventDataMap } from '../../schemas/generated/events.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { openSqliteStateStore, type SqliteStateStore } from '../../streams/processing/sqlite-state.ts';
import { capacityForecastProjection } from './projection.ts';
import type { CapacityForecastQueries } from './queries.ts';

export type NodeEventType = 'NodeRegistered' | 'NodeCapacityChanged' | 'NodeFailed' | 'NodeDecommissioned' | 'CapacityReserved' | 'CapacityCommitted' | 'CapacityReleased';
export interface TimedEvent<T extends NodeEventType = NodeEventType> {
  type: T;
  data: EventDataMap[T];
  occurredAt: string;
}

const size = (vcpus: number, memoryMiB: number) => ({ vcpus, memoryMiB, diskGiB: 10 });

/** Node events, each at an instant (`metadata.occurredAt`). */
export const node = {
  registered: (nodeId: string, at: string, o: { regionId?: string; clusterId?: string | null; vcpus?: number; memoryMiB?: number; overcommit?: number } = {}): TimedEvent<'NodeRegistered'> => ({
    type: 'NodeRegistered',
    data: { nodeId, regionId: o.regionId ?? 'eu-west', clusterId: o.clusterId === undefined ? 'c1' : o.clusterId, capacity: size(o.vcpus ?? 64, o.memoryMiB ?? 262_144), overcommitRatio: o.overcommit ?? 1, labels: {} },
    occurredAt: at,
  }),
  capacityChanged: (nodeId: string, at: string, vcpus: number, memoryMiB: number, overcommit = 1): TimedEvent<'NodeCapacityChanged'> => ({
    type: 'NodeCapacityChanged',
    data: { nodeId, capacity: size(vcpus, memoryMiB), overcommitRatio: overcommit },
    occurredAt: at,
  }),
  failed: (nodeId: string, at: string): TimedEvent<'NodeFailed'> => ({ type: 'NodeFailed', data: { nodeId, reason: 'power', vmIds: [] }, occurredAt: at }),
  decommissioned: (nodeId: string, at: string): TimedEvent<'NodeDecommissioned'> => ({ type: 'NodeDecommissioned', data: { nodeId }, occurredAt: at }),
  reserved: (nodeId: string, reservationId: string, vmId: string, at: string, vcpus: number, memoryMiB: number): TimedEvent<'CapacityReserved'> => ({
    type: 'CapacityReserved',
    data: { nodeId, reservationId, vmId, resources: size(vcpus, memoryMiB), expiresAt: '2100-01-01T00:00:00.000Z' },
    occurredAt: at,
  }),
  committed: (nodeId: string, reservationId: string, vmId: string, at: string): TimedEvent<'CapacityCommitted'> => ({
    type: 'CapacityCommitted',
    data: { nodeId, reservationId, vmId },
    occurredAt: at,
  }),
  released: (nodeId: string, reservationId: string, vmId: string, at: string, vcpus: number, memoryMiB: number): TimedEvent<'CapacityReleased'> => ({
    type: 'CapacityReleased',
    data: { nodeId, reservationId, vmId, resources: size(vcpus, memoryMiB), reason: 'vm_deleted' },
    occurredAt: at,
  }),
};

/** A VM placed on a node: reserved and committed at the same instant. */
export const placed = (nodeId: string, vmId: string, at: string, vcpus: number, memoryMiB = vcpus * 1024): TimedEvent[] => [
  node.reserved(nodeId, `r-${vmId}`, vmId, at, vcpus, memoryMiB),
  node.committed(nodeId, `r-${vmId}`, vmId, at),
];

/** As the event store would record them: stream `node-<id>`, consecutive positions. */
export function recorded(events: readonly TimedEvent[], firstPosition = 1): RecordedEvent[] {
  const revisions = new Map<string, number>();
  return events.map((event, i) => {
    const streamId = `node-${event.data.nodeId}`;
    const revision = (revisions.get(streamId) ?? -1) + 1;
    revisions.set(streamId, revision);
    return {
      streamId,
      revision,
      position: firstPosition + i,
      type: event.type,
      data: event.data as unknown as Record<string, unknown>,
      metadata: { eventId: `e${firstPosition + i}`, tenantId: null, correlationId: 'c', causationId: null, actor: 'system:test', occurredAt: event.occurredAt, schemaVersion: 1 },
      recordedAt: '2000-01-01T00:00:00.000Z',
    };
  });
}

export interface Folded {
  state: SqliteStateStore;
  queries: CapacityForecastQueries;
  close(): void;
}

/** The projection over `events` in an in-memory file, applied in batches of `batchSize` as the runner would. */
export async function fold(events: readonly TimedEvent[], { batchSize = 500 }: { batchSize?: number } = {}): Promise<Folded> {
  const p = capacityForecastProjection;
  const state = openSqliteStateStore({ path: ':memory:', migrate: (db) => p.migrate(db) });
  const log = recorded(events);
  for (let i = 0; i < log.length; i += batchSize) {
    const batch = log.slice(i, i + batchSize);
    const relevant = batch.filter((e) => p.handles.includes(e.type));
    await state.commit(batch.at(-1)!.position, (db) => p.apply(relevant, db));
  }
  return { state, queries: p.queries(state.db), close: () => state.db.close() };
}

/** Hourly growth of one region: a VM of `vcpus(h)` placed every hour from `start` for `hours` hours. */
export function growingRegion({ start, hours, vcpus, nodeVcpus = 100_000, regionId = 'eu-west' }: {
  start: string;
  hours: number;
  vcpus: (hour: number) => number;
  nodeVcpus?: number;
  regionId?: string;
}): TimedEvent[] {
  const t0 = Date.parse(start);
  const nodeId = `${regionId}-n1`;
  const events: TimedEvent[] = [node.registered(nodeId, start, { regionId, vcpus: nodeVcpus, memoryMiB: nodeVcpus * 1024 })];
  for (let h = 0; h < hours; h++) {
    const at = new Date(t0 + h * 3_600_000 + 60_000).toISOString();
    events.push(...placed(nodeId, `${regionId}-vm${h}`, at, vcpus(h)));
  }
  return events;
}
