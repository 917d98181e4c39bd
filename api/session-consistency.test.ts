/**
 * Read-your-writes through the API: a VM created and then read at once with
 * consistency=session (X-NovaCron-After: the creation's position) is always
 * there. Read with consistency=eventual it may not be yet: how often is
 * logged, not asserted (it depends on the machine).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const PAIRS = 1000;
const WORKERS = 8;
const vmBody = { name: 'rw', vcpus: 1, memoryMiB: 512, diskGiB: 1, image: 'debian-12' };

let f: FleetApp;
beforeAll(async () => {
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
  // 8 nodes × 1000 vCPUs: room for every VM of both runs. One tenant per worker, so workers do not queue on one tenant stream.
  await seedApi(f, { nodes: 8, vcpus: 1000 });
  for (let w = 0; w < WORKERS; w++) {
    await f.setup('POST', '/v1/tenants', {
      id: `rw${w}`,
      name: `rw${w}`,
      quota: { vms: PAIRS, vcpus: PAIRS, memoryMiB: 512 * PAIRS, diskGiB: PAIRS },
      allowedRegions: ['eu-west'],
    });
  }
}, 60_000);
afterAll(async () => f?.close());

/** `PAIRS` create-then-read pairs, `WORKERS` at a time; the reads that did not find the VM just created. */
async function createThenRead(consistency: 'session' | 'eventual'): Promise<{ misses: number; behind: number; statuses: Record<number, number> }> {
  let next = 0;
  let misses = 0;
  let behind = 0;
  const statuses: Record<number, number> = {};
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const admin = f.tenant(`rw${w}`);
      while (next < PAIRS) {
        const i = next++;
        const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: admin, payload: { ...vmBody, name: `${consistency}-${i}` } });
        expect(created.statusCode, created.body).toBe(201);
        const { id, position } = created.json();
        // Whether the inventory had not applied the creation yet when the read was sent.
        if (f.platform.projections.checkpoint('inventory') < position) behind++;
        const read = await f.app.inject({
          method: 'GET',
          url: `/v1/vms/${id}?consistency=${consistency}`,
          headers: consistency === 'session' ? { ...admin, 'x-novacron-after': String(position) } : admin,
        });
        statuses[read.statusCode] = (statuses[read.statusCode] ?? 0) + 1;
        if (read.statusCode !== 200 || read.json().id !== id) misses++;
      }
    }),
  );
  return { misses, behind, statuses };
}

describe('read-your-writes', () => {
  it(`session: ${PAIRS} create-then-read pairs never miss the write`, { timeout: 180_000 }, async () => {
    const { misses, behind, statuses } = await createThenRead('session');
    console.log(`[${expect.getState().currentTestName}] session misses: ${misses}/${PAIRS}; the inventory was behind the write when ${behind} reads were sent (statuses ${JSON.stringify(statuses)})`);
    expect(misses).toBe(0);
    expect(statuses).toEqual({ 200: PAIRS });
  });

  it(`eventual: ${PAIRS} create-then-read pairs, misses counted`, { timeout: 180_000 }, async () => {
    const { misses, behind, statuses } = await createThenRead('eventual');
    console.log(`[${expect.getState().currentTestName}] eventual misses: ${misses}/${PAIRS}; the inventory was behind the write when ${behind} reads were sent (statuses ${JSON.stringify(statuses)})`);
    // Nothing asserted on the count: a miss is a 404 for a VM the projection has not applied yet.
    expect(Object.keys(statuses).every((s) => s === '200' || s === '404')).toBe(true);
  });
});
