import type Database from 'better-sqlite3';
import { allocatable } from '../../commands/node/state.ts';
import type { EventDataMap } from '../../schemas/generated/events.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import { hourOf } from './hours.ts';

/** The events the projection applies: node lifecycle and the nodes' capacity ledgers. */
export const HANDLES = [
  'NodeRegistered',
  'NodeCapacityChanged',
  'NodeFailed',
  'NodeDecommissioned',
  'CapacityReserved',
  'CapacityCommitted',
  'CapacityReleased',
] as const satisfies readonly (keyof EventDataMap)[];
type Handled = (typeof HANDLES)[number];

interface Amounts {
  vcpus: number;
  memory_mib: number;
}
interface NodeRow {
  region_id: string;
  cluster_id: string | null;
}

function statements(db: Database.Database) {
  return {
    streamTime: db.prepare<[], { hour: number }>('SELECT hour FROM stream_time WHERE id = 1'),
    setStreamTime: db.prepare<[number]>('INSERT INTO stream_time (id, hour) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET hour = excluded.hour'),
    node: db.prepare<[string], NodeRow>('SELECT region_id, cluster_id FROM nodes WHERE node_id = ?'),
    putNode: db.prepare<[string, string, string | null, number, number]>(
      'INSERT OR REPLACE INTO nodes (node_id, region_id, cluster_id, vcpus, memory_mib, in_service) VALUES (?, ?, ?, ?, ?, 1)',
    ),
    resizeNode: db.prepare<[number, number, string]>('UPDATE nodes SET vcpus = ?, memory_mib = ? WHERE node_id = ?'),
    retireNode: db.prepare<[string]>('UPDATE nodes SET in_service = 0 WHERE node_id = ?'),
    reservation: db.prepare<[string, string], Amounts & { vm_id: string }>(
      'SELECT vm_id, vcpus, memory_mib FROM reservations WHERE node_id = ? AND reservation_id = ?',
    ),
    reserve: db.prepare<[string, string, string, number, number]>(
      'INSERT OR REPLACE INTO reservations (node_id, reservation_id, vm_id, vcpus, memory_mib) VALUES (?, ?, ?, ?, ?)',
    ),
    unreserve: db.prepare<[string, string]>('DELETE FROM reservations WHERE node_id = ? AND reservation_id = ?'),
    holding: db.prepare<[string, string], Amounts>('SELECT vcpus, memory_mib FROM holdings WHERE node_id = ? AND vm_id = ?'),
    hold: db.prepare<[string, string, number, number]>(
      `INSERT INTO holdings (node_id, vm_id, vcpus, memory_mib) VALUES (?, ?, ?, ?)
       ON CONFLICT (node_id, vm_id) DO UPDATE SET vcpus = vcpus + excluded.vcpus, memory_mib = memory_mib + excluded.memory_mib`,
    ),
    dropEmptyHolding: db.prepare<[string, string]>('DELETE FROM holdings WHERE node_id = ? AND vm_id = ? AND vcpus = 0 AND memory_mib = 0'),
    ensureScope: db.prepare<[string, string]>('INSERT OR IGNORE INTO allocated (scope, scope_id, vcpus, memory_mib) VALUES (?, ?, 0, 0)'),
    allocate: db.prepare<[number, number, string, string]>(
      'UPDATE allocated SET vcpus = vcpus + ?, memory_mib = memory_mib + ? WHERE scope = ? AND scope_id = ?',
    ),
    touchHour: db.prepare<[{ scope: string; id: string; hour: number }]>(
      `INSERT INTO allocated_hourly (scope, scope_id, hour, vcpus, memory_mib)
       SELECT scope, scope_id, @hour, vcpus, memory_mib FROM allocated WHERE scope = @scope AND scope_id = @id
       ON CONFLICT (scope, scope_id, hour) DO UPDATE SET vcpus = excluded.vcpus, memory_mib = excluded.memory_mib`,
    ),
  };
}
type Statements = ReturnType<typeof statements>;

const prepared = new WeakMap<Database.Database, Statements>();
const statementsOf = (db: Database.Database): Statements => {
  let found = prepared.get(db);
  if (!found) prepared.set(db, (found = statements(db)));
  return found;
};

/**
 * Applies a batch in log order. Each event lands in the hour of its
 * `metadata.occurredAt`, or in the latest hour already applied when it is
 * older (stream time never goes back, so earlier hours are never rewritten and
 * a replay of the log gives the same series).
 */
export function applyBatch(batch: readonly RecordedEvent[], db: Database.Database): void {
  if (batch.length === 0) return;
  const s = statementsOf(db);
  let hour = s.streamTime.get()?.hour ?? Number.NEGATIVE_INFINITY;

  const scopesOf = (node: NodeRow): Array<[string, string]> =>
    node.cluster_id === null ? [['region', node.region_id]] : [['region', node.region_id], ['cluster', node.cluster_id]];
  const allocate = (node: NodeRow, vcpus: number, memoryMiB: number) => {
    for (const [scope, id] of scopesOf(node)) {
      s.allocate.run(vcpus, memoryMiB, scope, id);
      s.touchHour.run({ scope, id, hour });
    }
  };

  for (const event of batch) {
    hour = Math.max(hour, hourOf(event.metadata.occurredAt));
    apply(event as RecordedEvent<Handled, never>);
  }
  s.setStreamTime.run(hour);

  function apply(event: RecordedEvent<Handled, never>): void {
    switch (event.type) {
      case 'NodeRegistered': {
        const { nodeId, regionId, clusterId, capacity, overcommitRatio } = event.data as EventDataMap['NodeRegistered'];
        const limit = allocatable(capacity, overcommitRatio);
        s.putNode.run(nodeId, regionId, clusterId, limit.vcpus, limit.memoryMiB);
        const node = { region_id: regionId, cluster_id: clusterId };
        // A new region or cluster's series starts here, at zero.
        for (const [scope, id] of scopesOf(node)) {
          s.ensureScope.run(scope, id);
          s.touchHour.run({ scope, id, hour });
        }
        return;
      }
      case 'NodeCapacityChanged': {
        const { nodeId, capacity, overcommitRatio } = event.data as EventDataMap['NodeCapacityChanged'];
        const limit = allocatable(capacity, overcommitRatio);
        s.resizeNode.run(limit.vcpus, limit.memoryMiB, nodeId);
        return;
      }
      case 'NodeFailed':
      case 'NodeDecommissioned':
        s.retireNode.run((event.data as EventDataMap[typeof event.type]).nodeId);
        return;
      case 'CapacityReserved': {
        const { nodeId, reservationId, vmId, resources } = event.data as EventDataMap['CapacityReserved'];
        s.reserve.run(nodeId, reservationId, vmId, resources.vcpus, resources.memoryMiB);
        return;
      }
      case 'CapacityCommitted': {
        // As the node's ledger: the pending reservation becomes the VM's holding; unknown or settled, nothing.
        const { nodeId, reservationId } = event.data as EventDataMap['CapacityCommitted'];
        const pending = s.reservation.get(nodeId, reservationId);
        const node = s.node.get(nodeId);
        if (!pending || !node) return;
        s.unreserve.run(nodeId, reservationId);
        s.hold.run(nodeId, pending.vm_id, pending.vcpus, pending.memory_mib);
        allocate(node, pending.vcpus, pending.memory_mib);
        return;
      }
      case 'CapacityReleased': {
        // A pending reservation is dropped (nothing was allocated); otherwise the resources leave the VM's holding.
        const { nodeId, reservationId, vmId, resources } = event.data as EventDataMap['CapacityReleased'];
        if (s.reservation.get(nodeId, reservationId)) {
          s.unreserve.run(nodeId, reservationId);
          return;
        }
        const node = s.node.get(nodeId);
        if (!s.holding.get(nodeId, vmId) || !node) return;
        s.hold.run(nodeId, vmId, -resources.vcpus, -resources.memoryMiB);
        s.dropEmptyHolding.run(nodeId, vmId);
        allocate(node, -resources.vcpus, -resources.memoryMiB);
        return;
      }
      default: {
        const unexpected: never = event.type;
        throw new TypeError(`capacity-forecast does not handle ${String(unexpected)}`);
      }
    }
  }
}
