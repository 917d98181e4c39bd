/** Issue 10: a lifecycle command loads its VM once (the access check runs on the state it is decided on). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
beforeAll(async () => {
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000', NOVACRON_FORECAST_INTERVAL_MS: '86400000' });
  await seedApi(f, { nodes: 1 });
});
afterAll(() => f.close());

it('stop, pause, resume and restart read the VM stream once each (start twice: it reads the VM to find its tenant, whose suspension it checks), and refuse another tenant as a VM that does not exist', async () => {
  const vm = await f.setup('POST', '/v1/vms', { name: 'w', vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12', tenantId: 'acme', start: true });
  const stream = `vm-${vm.id as string}`;
  const store = f.platform.store;
  const reads: string[] = [];
  const { streamState, readStream } = store;
  store.streamState = (id) => (reads.push(`state ${id}`), streamState.call(store, id));
  store.readStream = (id, options) => (reads.push(`read ${id}`), readStream.call(store, id, options));
  try {
    for (const action of ['stop', 'start', 'pause', 'resume', 'restart']) {
      reads.length = 0;
      const res = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm.id as string}/${action}`, headers: f.tenant('acme') });
      expect(res.statusCode, `${action}: ${res.body}`).toBe(200);
      expect(reads.filter((r) => r.endsWith(stream)), action).toEqual(action === 'start' ? [`state ${stream}`, `state ${stream}`] : [`state ${stream}`]);
    }
    const foreign = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm.id as string}/stop`, headers: f.tenant('globex') });
    const never = await f.app.inject({ method: 'POST', url: '/v1/vms/00000000-0000-7000-8000-000000000000/stop', headers: f.tenant('globex') });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe(never.json().error.code);
    expect((await store.readStream(stream)).at(-1)?.type).toBe('VmRestarted'); // the refused stop recorded nothing
  } finally {
    store.streamState = streamState;
    store.readStream = readStream;
  }
});
