/** Property: whatever commands arrive, in any order, allocations + reservations never exceed what the node offers. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { reservedTotal } from '../shared/ledger.ts';
import { sum } from '../shared/resources.ts';
import type { NodeCommand } from './commands.ts';
import { nodeDecider } from './decider.ts';
import { allocatable, CAPACITY_DIMENSIONS, type NodeState } from './state.ts';

const metadata = { now: '2025-01-01T00:00:00Z' };
const nodeId = 'n1';
const reservationId = fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5');
const vmId = fc.constantFrom('v1', 'v2', 'v3');
const amount = fc.integer({ min: 0, max: 8 });
const resources = fc.record({ vcpus: amount, memoryMiB: amount, diskGiB: amount });
const size = fc.record({ vcpus: fc.integer({ min: 1, max: 8 }), memoryMiB: fc.integer({ min: 1, max: 8 }), diskGiB: fc.integer({ min: 1, max: 8 }) });
const capacity = fc.record({ vcpus: fc.integer({ min: 1, max: 8 }), memoryMiB: fc.integer({ min: 1, max: 8 }), diskGiB: fc.integer({ min: 1, max: 8 }) });
const ratio = fc.constantFrom(1, 1.25, 1.5, 2, 3.3);

const command: fc.Arbitrary<NodeCommand> = fc.oneof(
  fc.record({ reservationId, vmId, resources }).map(({ reservationId, vmId, resources }): NodeCommand => ({
    type: 'ReserveCapacity',
    data: { nodeId, reservationId, vmId, resources, expiresAt: '2025-01-01T00:15:00Z' },
    metadata,
  })),
  reservationId.map((reservationId): NodeCommand => ({ type: 'CommitCapacity', data: { nodeId, reservationId }, metadata })),
  reservationId.map((reservationId): NodeCommand => ({ type: 'ReleaseCapacity', data: { nodeId, reason: 'compensated', reservationId }, metadata })),
  vmId.map((vmId): NodeCommand => ({ type: 'ReleaseCapacity', data: { nodeId, reason: 'vm_migrated', vmId }, metadata })),
  fc.record({ vmId, size }).map(({ vmId, size }): NodeCommand => ({ type: 'ReleaseCapacity', data: { nodeId, reason: 'vm_resized', vmId, size }, metadata })),
  fc.record({ capacity, ratio }).map(({ capacity, ratio }): NodeCommand => ({ type: 'ChangeNodeCapacity', data: { nodeId, capacity, overcommitRatio: ratio }, metadata })),
  fc.constant<NodeCommand>({ type: 'CordonNode', data: { nodeId }, metadata }),
  fc.constant<NodeCommand>({ type: 'UncordonNode', data: { nodeId }, metadata }),
);

function checkInvariants(state: NodeState) {
  if (state === null) return;
  const limit = allocatable(state.capacity, state.overcommitRatio);
  const reserved = reservedTotal(CAPACITY_DIMENSIONS, state);
  expect(state.used).toEqual(sum(CAPACITY_DIMENSIONS, Object.values(state.committed).map((h) => h.resources)));
  expect(limit.diskGiB).toBe(state.capacity.diskGiB);
  for (const d of CAPACITY_DIMENSIONS) {
    expect(state.used[d]).toBeGreaterThanOrEqual(0);
    expect(state.used[d] + reserved[d]).toBeLessThanOrEqual(limit[d]);
  }
}

describe('node invariants', () => {
  it('never over-commits the node, whatever the order of commands', () => {
    fc.assert(
      fc.property(capacity, ratio, fc.array(command, { maxLength: 60 }), (initial, overcommitRatio, commands) => {
        let state = nodeDecider.evolve(null, {
          type: 'NodeRegistered',
          data: { nodeId, regionId: 'eu-west', clusterId: null, capacity: initial, overcommitRatio, labels: {} },
        });
        for (const c of commands) {
          try {
            state = nodeDecider.decide(c, state).reduce(nodeDecider.evolve, state);
          } catch (error) {
            if (!isNovaCronError(error)) throw error;
          }
          checkInvariants(state);
        }
      }),
      { numRuns: 300 },
    );
  });
});
