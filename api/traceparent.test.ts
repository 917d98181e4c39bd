import { afterEach, describe, expect, it } from 'vitest';
import { toHeaders } from '../streams/kafka/headers.ts';
import { parseTraceparent } from '../streams/eventstore/index.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
afterEach(async () => f?.close());

const vmBody = { name: 'web-1', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12', start: true };

async function eventsAfter(position: number) {
  return f.platform.store.readAll({ fromPosition: position + 1, maxCount: 10_000 });
}

describe('trace context of commands', () => {
  it('every event has a valid traceparent; a command without one starts a new trace shared by all its events', async () => {
    f = await fleetApp();
    await seedApi(f);
    const head = (await f.platform.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1 }))[0]?.position ?? 0;
    const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: f.tenant('acme'), payload: vmBody });
    expect(created.statusCode, created.body).toBe(201);
    const all = await f.platform.store.readAll({ maxCount: 10_000 });
    expect(all.length).toBeGreaterThan(5);
    for (const event of all) {
      expect(parseTraceparent(event.metadata.traceparent), `${event.type} ${event.metadata.traceparent}`).not.toBeNull();
      // …and the Kafka headers carry it.
      expect(toHeaders(event).traceparent).toBe(event.metadata.traceparent);
    }
    const saga = await eventsAfter(head);
    expect(saga.map((e) => e.type)).toEqual(expect.arrayContaining(['QuotaReserved', 'CapacityReserved', 'VmCreated']));
    expect(new Set(saga.map((e) => parseTraceparent(e.metadata.traceparent)?.traceId)).size).toBe(1);
    // Two commands, two traces.
    const seeded = all.filter((e) => e.position <= head);
    expect(new Set(seeded.map((e) => parseTraceparent(e.metadata.traceparent)?.traceId)).size).toBe(seeded.length);
  });

  it('a valid incoming traceparent is continued: same trace id and flags, a span of the command', async () => {
    f = await fleetApp();
    await seedApi(f);
    const head = (await f.platform.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1 }))[0]?.position ?? 0;
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: { ...f.tenant('acme'), traceparent: incoming }, payload: vmBody });
    expect(created.statusCode, created.body).toBe(201);
    const events = await eventsAfter(head);
    expect(events.length).toBeGreaterThan(2);
    for (const event of events) {
      expect(parseTraceparent(event.metadata.traceparent)).toMatchObject({ version: '00', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', flags: '01' });
    }
  });

  it.each([
    ['not W3C at all', 'abc'],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
  ])('an invalid incoming traceparent (%s) is ignored and never stored: a new trace instead', async (_what, incoming) => {
    f = await fleetApp();
    const r = await f.app.inject({
      method: 'POST',
      url: '/v1/regions',
      headers: { ...f.operator, traceparent: incoming },
      payload: { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.021 },
    });
    expect(r.statusCode, r.body).toBe(201);
    const [event] = await f.platform.store.readAll({ maxCount: 10 });
    expect(event?.metadata.traceparent).not.toBe(incoming);
    const trace = parseTraceparent(event?.metadata.traceparent);
    expect(trace).not.toBeNull();
    expect(incoming.toLowerCase()).not.toContain(trace!.traceId);
  });
});
