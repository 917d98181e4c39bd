// Trace metadata of the create saga: its two reservations (made at once) are caused by the
// request itself; every event after them names the event of the step before it as its
// causationId (an earlier event of the same correlation); every event carries a traceparent.
import { afterEach, describe, expect, it } from 'vitest';
import { newTraceparent } from '../../streams/eventstore/index.ts';
import { seedFleet, testFleet } from './testing.ts';

let t: ReturnType<typeof testFleet>;
afterEach(async () => t?.close());

describe('the create saga records its causation', () => {
  it('the reservations are caused by the request, each later step by the event of the step before it; the failed path too', async () => {
    t = testFleet();
    const { tenantId } = await seedFleet(t, { nodes: 2, nodeVcpus: 2, quota: { vms: 10, vcpus: 100, memoryMiB: 1_000_000, diskGiB: 10_000 } });
    const spec = { vcpus: 2, memoryMiB: 1024, diskGiB: 10, image: 'debian-12' };
    const contexts = [0, 1, 2].map(() => ({ ...t.context(`tenant:${tenantId}:u`), traceparent: newTraceparent() }));
    // Two fit (one per node); the third reserves quota, finds no room and releases it (a compensation).
    await t.fleet.createVm(contexts[0]!, { tenantId, name: 'a', spec });
    await t.fleet.createVm(contexts[1]!, { tenantId, name: 'b', spec });
    await expect(t.fleet.createVm(contexts[2]!, { tenantId, name: 'c', spec })).rejects.toMatchObject({ code: 'NC_CAPACITY_EXHAUSTED' });

    const events = await t.store.readAll();
    for (const [i, context] of contexts.entries()) {
      const saga = events.filter((e) => e.metadata.correlationId === context.correlationId);
      if (i < 2) {
        expect(saga.slice(0, 2).map((e) => e.type).sort()).toEqual(['CapacityReserved', 'QuotaReserved']);
        expect(saga[2]!.type).toBe('VmCreated');
        expect(saga.slice(3).map((e) => e.type).sort()).toEqual(['CapacityCommitted', 'QuotaCommitted']);
      } else {
        expect(saga.map((e) => e.type)).toEqual(['QuotaReserved', 'QuotaReleased']);
      }
      const reservations = i < 2 ? 2 : 1;
      for (const first of saga.slice(0, reservations)) expect(first.metadata.causationId ?? null).toBeNull();
      const ids = new Set<string>();
      for (const [k, event] of saga.entries()) {
        if (k >= reservations) expect(ids.has(event.metadata.causationId as string), `${event.type} caused by an earlier event of its saga`).toBe(true);
        ids.add(event.metadata.eventId);
        expect(event.metadata.traceparent).toBe(context.traceparent);
      }
    }
    // Precisely: the VM is caused by the capacity reservation (the step that chose its node).
    const first = events.filter((e) => e.metadata.correlationId === contexts[0]!.correlationId);
    const capacity = first.find((e) => e.type === 'CapacityReserved')!;
    expect(first[2]!.metadata.causationId).toBe(capacity.metadata.eventId);
    for (const commit of first.slice(3)) expect(commit.metadata.causationId).toBe(first[2]!.metadata.eventId);
  });
});
