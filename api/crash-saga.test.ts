/**
 * The reservation saga survives a crash: the server is SIGKILLed in the middle
 * of a burst of VM creations, restarted on the same data dir, and once its
 * sweeper has settled what the dead process left half-done, the log and the
 * aggregates agree: every reservation is committed (and then a VmCreated
 * references it) or released; tenant usage and node allocations equal the VMs
 * that exist; no VM exists without committed quota and capacity.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toDomainEvent } from '../commands/handling/handle-command.ts';
import type { CapacityReserved, QuotaReserved, VmCreated } from '../schemas/generated/events.ts';
import { signToken } from './auth/tokens.ts';
import { loadConfig } from './config.ts';
import { openPlatform } from './platform.ts';
import { startCliServer, type CliServer } from './testing/cli-server.ts';

const SECRET = 'crash-saga-test-secret-0123456789abcdef';
const NODES = ['n0', 'n1', 'n2'];
const BURST = 60;
const KILL_AFTER = 20;

let dataDir: string;
let server: CliServer | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'novacron-crash-saga-'));
});

afterEach(async () => {
  await server?.kill();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** `novacron start` on the data dir, with short reservations and a fast sweeper; resolves once it listens. */
const startCli = () =>
  startCliServer({
    NOVACRON_DATA_DIR: dataDir,
    NOVACRON_PORT: '0',
    NOVACRON_JWT_SECRET: SECRET,
    NOVACRON_SQLITE_SYNC: 'normal', // a killed process loses nothing in WAL mode; only an OS crash could
    NOVACRON_LOG_LEVEL: 'warn',
    NOVACRON_RESERVATION_TIMEOUT_MS: '300',
    NOVACRON_SWEEP_INTERVAL_MS: '100',
  });

const operator = signToken(SECRET, { subject: 'crash-test', role: 'operator', ttlSeconds: 600 });
const acmeAdmin = signToken(SECRET, { subject: 'crash-test', role: 'tenant-admin', tenantId: 'acme', ttlSeconds: 600 });

type Amounts = Record<string, number>;
/** The fields of the API's answers this test reads. */
interface Answer {
  id: string;
  error?: { code: string };
  tenant: { usage: Amounts; reservations: number };
  node: { id: string; reservations: number; vms: string[]; allocated: Amounts };
}

async function call(url: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

async function setup(url: string, method: string, path: string, body?: unknown): Promise<void> {
  const answer = await call(url, method, path, operator, body);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
}

/** The tenant and its nodes as the aggregates fold them (strong reads). */
async function readAggregates(url: string) {
  return {
    tenant: (await call(url, 'GET', '/v1/tenants/acme', operator)).body.tenant,
    nodes: await Promise.all(NODES.map(async (id) => (await call(url, 'GET', `/v1/nodes/${id}`, operator)).body.node)),
  };
}

/** The reservations and VMs recorded in the data dir's log, read directly (no server may be running). */
async function readLedger() {
  const platform = openPlatform(loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_JWT_SECRET: SECRET }));
  const ledger = {
    reserved: [] as Array<QuotaReserved | CapacityReserved>,
    committed: new Set<string>(),
    released: new Set<string>(),
    vms: new Map<string, VmCreated>(),
  };
  try {
    for (const recorded of await platform.store.readAll({ maxCount: 1_000_000 })) {
      const event = toDomainEvent(recorded);
      switch (event.type) {
        case 'QuotaReserved':
        case 'CapacityReserved':
          ledger.reserved.push(event.data);
          break;
        case 'QuotaCommitted':
        case 'CapacityCommitted':
          ledger.committed.add(event.data.reservationId);
          break;
        case 'QuotaReleased':
        case 'CapacityReleased':
          ledger.released.add(event.data.reservationId);
          break;
        case 'VmCreated':
          ledger.vms.set(event.data.vmId, event.data);
          break;
        default:
          break;
      }
    }
  } finally {
    await platform.close();
  }
  return ledger;
}

const spec = (i: number) => ({ vcpus: 1 + (i % 3), memoryMiB: 1024 * (1 + (i % 2)), diskGiB: 10 + i });
const size = (vm: VmCreated): Amounts => ({ vcpus: vm.spec.vcpus, memoryMiB: vm.spec.memoryMiB, diskGiB: vm.spec.diskGiB });
const add = (a: Amounts, b: Amounts): Amounts => Object.fromEntries(Object.keys({ ...a, ...b }).map((k) => [k, (a[k] ?? 0) + (b[k] ?? 0)]));

describe('a server killed mid-burst of VM creations', () => {
  it('settles every reservation after a restart: usage and allocations equal the VMs that exist', async () => {
    server = await startCli();
    const first = server;
    await setup(first.url, 'POST', '/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02 });
    await setup(first.url, 'POST', '/v1/clusters', { id: 'c1', regionId: 'eu-west' });
    for (const id of NODES) {
      await setup(first.url, 'POST', '/v1/nodes', { id, regionId: 'eu-west', clusterId: 'c1', vcpus: 64, memoryMiB: 262_144, diskGiB: 10_000 });
    }
    await setup(first.url, 'POST', '/v1/tenants', {
      id: 'acme',
      name: 'Acme',
      quota: { vms: 100, vcpus: 1000, memoryMiB: 1_000_000, diskGiB: 100_000 },
      allowedRegions: ['eu-west'],
    });

    // The burst: SIGKILL as soon as the KILL_AFTER-th VM is acknowledged.
    const acknowledged: string[] = [];
    const refused: Answer[] = [];
    await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        call(first.url, 'POST', '/v1/vms', acmeAdmin, { name: `vm-${i}`, image: 'debian-12', ...spec(i) }).then(
          ({ status, body }) => {
            if (status !== 201) return void refused.push(body);
            acknowledged.push(body.id);
            if (acknowledged.length === KILL_AFTER) first.child.kill('SIGKILL');
          },
          () => undefined, // the connection died with the server
        ),
      ),
    );
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');
    // Room and quota suffice for all; a saga slower than its reservations may only be told to retry.
    expect(refused.filter((answer) => answer.error?.code !== 'NC_SAGA_EXPIRED')).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER);

    // The crash interrupted sagas: reservations are left neither committed nor released.
    const atCrash = await readLedger();
    const pendingAtCrash = atCrash.reserved.filter((r) => !atCrash.committed.has(r.reservationId) && !atCrash.released.has(r.reservationId));
    expect(pendingAtCrash.length, 'reservations pending when the server died').toBeGreaterThan(0);

    // Restart on the same data dir; its sweeper settles what the dead process left pending.
    server = await startCli();
    const second = server;
    await vi.waitFor(
      async () => {
        const { tenant, nodes } = await readAggregates(second.url);
        expect(tenant.reservations).toBe(0);
        for (const node of nodes) expect(node.reservations, node.id).toBe(0);
      },
      { timeout: 15_000, interval: 100 },
    );
    // It takes new work again.
    const after = await call(second.url, 'POST', '/v1/vms', acmeAdmin, { name: 'after-restart', image: 'debian-12', ...spec(0) });
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    const { tenant, nodes } = await readAggregates(second.url);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    server = undefined;

    // The log, read directly.
    const { reserved, committed, released, vms } = await readLedger();
    const byReservation = new Map<string, VmCreated>();
    for (const vm of vms.values()) {
      byReservation.set(vm.quotaReservationId, vm);
      byReservation.set(vm.capacityReservationId, vm);
    }

    // Every acknowledged VM was recorded; every VM came from the burst or after it.
    for (const id of acknowledged) expect(vms.has(id), `acknowledged VM ${id}`).toBe(true);
    expect(vms.size).toBeLessThanOrEqual(BURST + 1);

    // Every reservation is either committed, for a VM that records it, or released, and for no VM.
    expect(reserved.length).toBeGreaterThanOrEqual(2 * vms.size);
    for (const r of reserved) {
      const id = r.reservationId;
      const vm = byReservation.get(id);
      expect(committed.has(id) !== released.has(id), `reservation ${id}: committed xor released`).toBe(true);
      if (committed.has(id)) expect(vm?.vmId, `committed reservation ${id} has its VM`).toBe(r.vmId);
      else expect(vm, `released reservation ${id} has no VM`).toBeUndefined();
    }
    // No VM without committed quota and capacity.
    for (const vm of vms.values()) {
      expect(committed.has(vm.quotaReservationId), `quota of ${vm.vmId}`).toBe(true);
      expect(committed.has(vm.capacityReservationId), `capacity of ${vm.vmId}`).toBe(true);
    }

    // Usage and allocations, as the aggregates fold them, equal the VMs that exist.
    const live = [...vms.values()];
    expect(tenant.reservations).toBe(0);
    expect(tenant.usage).toEqual(live.reduce<Amounts>((sum, vm) => add(sum, { vms: 1, ...size(vm) }), { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 }));
    for (const node of nodes) {
      const onNode = live.filter((vm) => vm.nodeId === node.id);
      expect(node.reservations, node.id).toBe(0);
      expect(node.vms, node.id).toEqual(onNode.map((vm) => vm.vmId).sort());
      expect(node.allocated, node.id).toEqual(onNode.reduce<Amounts>((sum, vm) => add(sum, size(vm)), { vcpus: 0, memoryMiB: 0, diskGiB: 0 }));
    }
  });
});
