import { afterEach, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
afterEach(async () => f?.close());

const vmBody = { name: 'web-1', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12' };

describe('a VM through its whole life, as a tenant-admin', () => {
  it('create → start → pause → resume → stop → resize → start → migrate live → snapshot → delete', async () => {
    f = await fleetApp();
    await seedApi(f);
    const admin = f.tenant('acme', 'tenant-admin');
    const other = f.tenant('globex', 'tenant-admin');
    const user = f.tenant('acme', 'tenant-user');

    const created = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: admin, payload: vmBody });
    expect(created.statusCode).toBe(201);
    const vm = created.json();
    expect(vm).toMatchObject({ tenantId: 'acme', state: 'stopped', regionId: 'eu-west', vcpus: 2, memoryMiB: 2048, diskGiB: 20, streamId: `vm-${vm.id}`, revision: 0 });
    expect(vm.position).toBeGreaterThan(0);
    expect(created.headers.location).toBe(`/v1/vms/${vm.id}`);

    const state = async () => {
      const r = await f.app.inject({ method: 'GET', url: `/v1/vms/${vm.id}?consistency=strong`, headers: admin });
      expect(r.statusCode).toBe(200);
      return r.json();
    };
    const step = async (url: string, payload: object | undefined, expectedState: string, status = 200) => {
      const r = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm.id}${url}`, headers: admin, ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${url}: ${r.body}`).toBe(status);
      expect(r.json().state).toBe(expectedState);
      expect((await state()).state).toBe(expectedState);
      return r.json();
    };
    await step('/start', undefined, 'running');
    await step('/pause', undefined, 'paused');
    await step('/resume', undefined, 'running');
    await step('/stop', undefined, 'stopped');
    const resized = await step('/resize', { vcpus: 4, diskGiB: 40 }, 'stopped');
    expect(resized).toMatchObject({ vcpus: 4, memoryMiB: 2048, diskGiB: 40 });
    await step('/start', undefined, 'running');
    const migrated = await step('/migrate', { kind: 'live' }, 'running');
    expect(migrated.nodeId).not.toBe(vm.nodeId);
    const snap = await step('/snapshots', { name: 'before-upgrade' }, 'running', 201);
    expect(snap.snapshotId).toEqual(expect.any(String));
    expect(snap.snapshots).toBe(1);

    // Another tenant: 404 on every route of this VM, as if it did not exist.
    for (const [method, url, payload] of [
      ['GET', '', undefined],
      ['POST', '/start', undefined],
      ['POST', '/stop', undefined],
      ['POST', '/restart', undefined],
      ['POST', '/pause', undefined],
      ['POST', '/resume', undefined],
      ['POST', '/resize', { vcpus: 8 }],
      ['POST', '/migrate', { kind: 'live' }],
      ['POST', '/snapshots', { name: 's' }],
      ['DELETE', '', undefined],
    ] as const) {
      const r = await f.app.inject({ method, url: `/v1/vms/${vm.id}${url}`, headers: other, ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.json().error.code).toBe('NC_NOT_FOUND');
    }
    const missing = await f.app.inject({ method: 'GET', url: '/v1/vms/does-not-exist', headers: admin });
    expect(missing.json()).toEqual({ error: { code: 'NC_NOT_FOUND', message: 'vm does-not-exist does not exist', details: { entity: 'vm', id: 'does-not-exist' } } });

    // A tenant-user may not delete.
    const forbidden = await f.app.inject({ method: 'DELETE', url: `/v1/vms/${vm.id}`, headers: user });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('NC_FORBIDDEN');

    const deleted = await f.app.inject({ method: 'DELETE', url: `/v1/vms/${vm.id}`, headers: admin });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json().state).toBe('deleted');
    expect((await state()).state).toBe('deleted');
    const tenant = await f.app.inject({ method: 'GET', url: '/v1/tenants/acme', headers: admin });
    expect(tenant.json().tenant.usage).toEqual({ vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 });
  });
});

describe('200 concurrent VM creations through the API', () => {
  for (const { quota, expected } of [
    { quota: 50, expected: 50 },
    { quota: 100, expected: 80 },
  ]) {
    it(`quota ${quota}, room for 80: exactly ${expected} answer 201, the rest 422, nodes never over-committed`, async () => {
      f = await fleetApp();
      // 4 nodes × 20 vCPUs: room for 80 one-vCPU VMs.
      await seedApi(f, { nodes: 4, vcpus: 20, quotaVms: quota });
      const admin = f.tenant('acme');
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          f.app.inject({ method: 'POST', url: '/v1/vms', headers: admin, payload: { ...vmBody, name: `vm-${i}`, vcpus: 1, memoryMiB: 1024 } }),
        ),
      );
      const statuses = answers.map((a) => a.statusCode);
      expect(statuses.filter((s) => s === 201)).toHaveLength(expected);
      expect(statuses.filter((s) => s !== 201 && s !== 422)).toEqual([]);
      const codes = new Set(answers.filter((a) => a.statusCode === 422).map((a) => a.json().error.code));
      if (quota < 80) expect(codes).toEqual(new Set(['NC_QUOTA_EXCEEDED']));
      else expect([...codes].every((c) => c === 'NC_QUOTA_EXCEEDED' || c === 'NC_CAPACITY_EXHAUSTED')).toBe(true);

      let allocated = 0;
      for (let i = 0; i < 4; i++) {
        const node = (await f.app.inject({ method: 'GET', url: `/v1/nodes/euw-n${i}`, headers: f.operator })).json().node;
        expect(node.allocated.vcpus).toBeLessThanOrEqual(node.allocatable.vcpus);
        expect(node.reservations).toBe(0); // after the saga, nothing dangles
        allocated += node.allocated.vcpus;
      }
      expect(allocated).toBe(expected);
      const tenant = (await f.app.inject({ method: 'GET', url: '/v1/tenants/acme', headers: f.operator })).json().tenant;
      expect(tenant.usage.vms).toBe(expected);
      expect(tenant.reservations).toBe(0);
    });
  }
});

describe('Idempotency-Key on VM creation', () => {
  it('the same POST sent twice concurrently creates one VM and both get its answer', async () => {
    f = await fleetApp();
    await seedApi(f);
    const headers = { ...f.tenant('acme'), 'idempotency-key': 'create-web-1' };
    const before = await f.platform.store.headPosition();
    const [a, b] = await Promise.all([
      f.app.inject({ method: 'POST', url: '/v1/vms', headers, payload: vmBody }),
      f.app.inject({ method: 'POST', url: '/v1/vms', headers, payload: vmBody }),
    ]);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json().id).toBe(a.json().id);
    const created = (await f.platform.store.readAll({ fromPosition: before + 1 })).filter((e) => e.type === 'VmCreated');
    expect(created).toHaveLength(1);
    const again = await f.app.inject({ method: 'POST', url: '/v1/vms', headers, payload: vmBody });
    expect(again.json().id).toBe(a.json().id);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });
});
