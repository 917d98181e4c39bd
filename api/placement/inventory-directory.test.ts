import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rankCandidates } from '../../commands/placement/policy.ts';
import { createInventoryProjection } from '../../projections/inventory/index.ts';
import {
  capacityCommitted,
  capacityReserved,
  clusterHealth,
  clusterJoined,
  nodeCordoned,
  nodeRegistered,
  regionAdded,
  regionRetired,
  type Given,
} from '../../projections/inventory/testing.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { openTempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import { createProjectionHost, type ProjectionHost } from '../../streams/processing/host.ts';
import { createInventoryDirectory } from './inventory-directory.ts';

let dir: string;
let store: EventStore;
let closeStore: () => Promise<void>;
let host: ProjectionHost;
beforeEach(async () => {
  ({ dir, store, close: closeStore } = openTempEventStore('directory'));
  host = createProjectionHost({ dir: join(dir, 'projections'), source: store, projections: [createInventoryProjection()], sync: 'normal' });
  await host.start();
});
afterEach(async () => {
  await host.stop();
  await closeStore();
});

const append = async (...events: Given[]) => {
  for (const e of events) await store.append(e.streamId, [{ type: e.type, data: e.data }]);
};

describe("placement's directory over the inventory", () => {
  it('refresh() waits only for the topology changes noted here, not for the whole log', async () => {
    const idle = createProjectionHost({ dir: join(dir, 'idle'), source: store, projections: [createInventoryProjection()], sync: 'normal' });
    try {
      // Over an inventory that never catches up: nothing noted, refresh() answers at once.
      const directory = createInventoryDirectory({ host: idle, store, waitMs: 200 });
      await append(regionAdded('eu-west'), nodeRegistered('n1', 'eu-west'));
      let started = performance.now();
      await directory.refresh();
      expect(performance.now() - started).toBeLessThan(150);
      // A node registered here (noted at its position): refresh() waits for the inventory to hold it.
      directory.changed?.(await store.headPosition());
      started = performance.now();
      await directory.refresh();
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      await idle.stop();
    }
    const live = createInventoryDirectory({ host, store, waitMs: 5000 });
    live.changed?.(await store.headPosition());
    await live.refresh();
    expect(live.nodes().map((n) => n.nodeId)).toEqual(['n1']);
  });

  it('refresh({ full: true }) waits for what the log holds: a node registered just before is a candidate, with its ledger', async () => {
    const directory = createInventoryDirectory({ host, store, waitMs: 2000 });
    await append(
      regionAdded('eu-west'),
      nodeRegistered('n1', 'eu-west', { vcpus: 8 }),
      capacityReserved('n1', 'r1', 'v1', { vcpus: 2, memoryMiB: 1024, diskGiB: 10 }),
      capacityReserved('n1', 'r2', 'v2', { vcpus: 1, memoryMiB: 1024, diskGiB: 10 }),
      capacityCommitted('n1', 'r1', 'v1'),
    );
    await directory.refresh({ full: true });
    expect(directory.nodes()).toEqual([
      {
        nodeId: 'n1',
        regionId: 'eu-west',
        clusterId: null,
        status: 'active',
        capacity: { vcpus: 8, memoryMiB: 65_536, diskGiB: 2000 },
        overcommitRatio: 1,
        used: { vcpus: 2, memoryMiB: 1024, diskGiB: 10 },
        reservations: { r2: { vmId: 'v2', resources: { vcpus: 1, memoryMiB: 1024, diskGiB: 10 }, expiresAt: '2030-01-01T00:10:00Z' } },
      },
    ]);
    expect(directory.node('n1')).toEqual(directory.nodes()[0]);
    expect(directory.node('nope')).toBeUndefined();
    expect(directory.region('eu-west')).toEqual({ regionId: 'eu-west', retired: false });
    expect(directory.region('nowhere')).toBeUndefined();
  });

  it('keeps its node list up to date by reading only the nodes changed since', async () => {
    const directory = createInventoryDirectory({ host, store, waitMs: 2000 });
    await append(regionAdded('eu-west'), nodeRegistered('n2', 'eu-west', { vcpus: 8 }), nodeRegistered('n3', 'eu-west', { vcpus: 8 }));
    await directory.refresh({ full: true });
    const first = directory.nodes();
    expect(first.map((n) => n.nodeId)).toEqual(['n2', 'n3']);
    // Nothing applied since: the same list (not read again).
    expect(directory.nodes()).toBe(first);
    const queries = host.queries<import('../../projections/inventory/index.ts').InventoryQueries>('inventory');
    const changedSince = queries.placementNodesChangedSince.bind(queries);
    const asked: number[] = [];
    queries.placementNodesChangedSince = (position) => {
      asked.push(position);
      return changedSince(position);
    };
    queries.placementNodes = () => {
      throw new Error('every node read again');
    };
    await append(capacityReserved('n3', 'r1', 'v1', { vcpus: 2, memoryMiB: 1024, diskGiB: 10 }), nodeRegistered('n1', 'eu-west', { vcpus: 4 }));
    await directory.refresh({ full: true });
    const after = directory.nodes();
    expect(after.map((n) => n.nodeId).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(after.find((n) => n.nodeId === 'n3')?.reservations).toEqual({ r1: { vmId: 'v1', resources: { vcpus: 2, memoryMiB: 1024, diskGiB: 10 }, expiresAt: '2030-01-01T00:10:00Z' } });
    // The untouched node is the very object of the first read.
    expect(after.find((n) => n.nodeId === 'n2')).toBe(first[0]);
    expect(asked.length).toBeGreaterThan(0);
  });

  it('ranks like the in-memory directory: cordoned nodes, retired regions and unhealthy clusters are out', async () => {
    const directory = createInventoryDirectory({ host, store, waitMs: 2000 });
    await append(
      regionAdded('eu-west'),
      regionAdded('old'),
      clusterJoined('c-ok', 'eu-west'),
      clusterJoined('c-sick', 'eu-west'),
      nodeRegistered('n-free', 'eu-west', { vcpus: 16, clusterId: 'c-ok' }),
      nodeRegistered('n-busy', 'eu-west', { vcpus: 16 }),
      nodeRegistered('n-cordoned', 'eu-west', { vcpus: 64 }),
      nodeRegistered('n-sick', 'eu-west', { vcpus: 64, clusterId: 'c-sick' }),
      nodeRegistered('n-old', 'old', { vcpus: 64 }),
      capacityReserved('n-busy', 'r1', 'v1', { vcpus: 8, memoryMiB: 1024, diskGiB: 10 }),
      nodeCordoned('n-cordoned'),
      clusterHealth('c-sick', 'eu-west', false),
      regionRetired('old'),
    );
    await directory.refresh({ full: true });
    expect(directory.cluster('c-ok')).toEqual({ clusterId: 'c-ok', regionId: 'eu-west', healthy: true });
    expect(directory.cluster('c-sick')).toEqual({ clusterId: 'c-sick', regionId: 'eu-west', healthy: false });
    const ranked = rankCandidates(directory, { regionIds: ['eu-west', 'old'], resources: { vcpus: 2, memoryMiB: 1024, diskGiB: 10 }, policy: 'balanced' });
    expect(ranked.map((n) => n.nodeId)).toEqual(['n-free', 'n-busy']);
    const packed = rankCandidates(directory, { regionIds: ['eu-west'], resources: { vcpus: 2, memoryMiB: 1024, diskGiB: 10 }, policy: 'consolidated' });
    expect(packed.map((n) => n.nodeId)).toEqual(['n-busy', 'n-free']);
  });

  it('refresh({ full: true }) gives up after waitMs when the inventory does not catch up, and placement ranks what it has', async () => {
    // A host that never runs: its inventory stays empty, whatever the log holds.
    const idle = createProjectionHost({ dir: join(dir, 'idle'), source: store, projections: [createInventoryProjection()], sync: 'normal' });
    try {
      const directory = createInventoryDirectory({ host: idle, store, waitMs: 20 });
      await append(regionAdded('eu-west'), nodeRegistered('n1', 'eu-west'));
      const started = performance.now();
      await directory.refresh({ full: true });
      expect(performance.now() - started).toBeGreaterThanOrEqual(15);
      expect(directory.nodes()).toEqual([]);
    } finally {
      await idle.stop();
    }
  });
});
