import { afterEach, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
afterEach(async () => f?.close());

const vmBody = { name: 'web-1', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12', start: true };

async function runningVm(nodes: number, vcpus = 32): Promise<{ id: string; nodeId: string }> {
  f = await fleetApp();
  await seedApi(f, { nodes, vcpus });
  const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: f.tenant('acme'), payload: vmBody });
  expect(created.statusCode, created.body).toBe(201);
  return created.json();
}

describe('a migration with nowhere to go', () => {
  it('in a region with a single node: 422 saying that no other node exists, not that none has room', async () => {
    const vm = await runningVm(1);
    const r = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm.id}/migrate`, headers: f.tenant('acme'), payload: { kind: 'live' } });
    expect(r.statusCode).toBe(422);
    const { error } = r.json();
    expect(error.code).toBe('NC_CAPACITY_EXHAUSTED');
    expect(error.message).toBe(`no node other than ${vm.nodeId} (the VM's own) exists in eu-west to migrate the VM to`);
    expect(error.message).not.toMatch(/has room/);
    expect(error.details).toMatchObject({ regions: ['eu-west'], sourceNodeId: vm.nodeId, otherNodes: 0 });
    // Nothing was recorded for the refused migration: the VM is still running on its node.
    const after = await f.app.inject({ method: 'GET', url: `/v1/vms/${vm.id}?consistency=strong`, headers: f.tenant('acme') });
    expect(after.json()).toMatchObject({ state: 'running', nodeId: vm.nodeId });
  });

  it('when the other nodes are full: 422 saying that no other node has room', async () => {
    const vm = await runningVm(2, 2);
    // Fill the other node.
    const filler = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: f.tenant('acme'), payload: { ...vmBody, name: 'filler' } });
    expect(filler.statusCode, filler.body).toBe(201);
    expect(filler.json().nodeId).not.toBe(vm.nodeId);
    const r = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm.id}/migrate`, headers: f.tenant('acme'), payload: { kind: 'live' } });
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toMatchObject({ code: 'NC_CAPACITY_EXHAUSTED', message: 'no node in eu-west other than the VM\'s own has room for the VM' });
  });
});
