/**
 * npm run bench:commands — the command path and the read path of the API against
 * a seeded fleet, beside two references measured in the same run:
 *   - a Fastify hello-world route (its own child process, the same autocannon load);
 *   - the event store's own append ceiling: `npm run bench:append`'s 128-appender
 *     figure (run as a child, its last JSON line read).
 * NovaCron runs as `novacron start` runs it (embedded default, a fresh data dir,
 * NOVACRON_SQLITE_SYNC=full, rate limits off: the bench is one client far past a
 * tenant's budget), seeded over HTTP with BENCH_REGIONS regions (default 3), two
 * clusters each, BENCH_NODES nodes (default 1000), BENCH_TENANTS tenants (default 64)
 * plus one hot tenant, and BENCH_VMS VMs (default 10000) spread over the tenants.
 *
 * Workloads, each for BENCH_SECONDS (default 5, after a 1 s warm-up for the reads)
 * with BENCH_CONNECTIONS connections (default 64): VM creations for the hot tenant;
 * creations spread over the tenants; a lifecycle mix (start / pause / resume /
 * restart / stop, each VM taken through that cycle in order) over the seeded VMs;
 * GET /v1/vms/{id}; GET /v1/vms (one page of 50). Each is measured at its maximum
 * rate, then again at half of that rate (autocannon overallRate): requests/s,
 * p50 / p99, and the answers by status. The last line printed is a JSON object of
 * the figures. BENCH_PROFILE_DIR=dir runs the server under `node --cpu-prof` (the profile
 * is written to dir when it stops; open it in Chrome DevTools or speedscope).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createServers, HELLO_WORLD_LISTENING, HELLO_WORLD_SOURCE } from './servers.ts';
import { signToken } from '../api/auth/tokens.ts';

const num = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const seconds = num('BENCH_SECONDS', 5);
const connections = num('BENCH_CONNECTIONS', 64);
const regionCount = num('BENCH_REGIONS', 3);
const nodeCount = num('BENCH_NODES', 1000);
const tenantCount = num('BENCH_TENANTS', 64);
const vmCount = num('BENCH_VMS', 10_000);
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'novacron-bench-commands-'));
const secret = 'bench-commands-secret-0123456789abcdef0123456789ab';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);

const servers = createServers();
const serve = servers.serve;

/** The last JSON line a child prints. */
function lastJsonLine(args: string[], env: Record<string, string>): Promise<Record<string, number>> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${args.join(' ')} exited with ${String(code)}`));
      else resolve(JSON.parse(last) as Record<string, number>);
    });
  });
}

interface Figures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers by HTTP status, and connection errors as "error". */
  statuses: Record<string, number>;
}

async function load(name: string, options: autocannon.Options, { warmUp = false } = {}): Promise<Figures> {
  if (warmUp) await autocannon({ connections, ...options, duration: 1 });
  const result = await autocannon({ connections, duration: seconds, ...options });
  const statuses: Record<string, number> = {};
  for (const [status, { count }] of Object.entries((result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {})) statuses[status] = count;
  if (result.errors > 0) statuses['error'] = result.errors;
  const figures = { reqPerSec: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, statuses };
  const odd = Object.entries(statuses).filter(([status]) => !status.startsWith('2'));
  console.log(`${name.padEnd(46)} ${fmt(figures.reqPerSec)} req/s  p50 ${String(figures.p50Ms).padStart(4)} ms  p99 ${String(figures.p99Ms).padStart(4)} ms${odd.length > 0 ? `  (${odd.map(([s, c]) => `${c} × ${s}`).join(', ')})` : ''}`);
  return figures;
}

/** The workload at its maximum rate, then at half of it. */
async function maxAndHalf(name: string, options: autocannon.Options, warmUp = false): Promise<{ max: Figures; half: Figures }> {
  const max = await load(`${name}`, options, { warmUp });
  const half = await load(`${name} @ half (${Math.round(max.reqPerSec / 2)}/s)`, { ...options, overallRate: Math.max(1, Math.round(max.reqPerSec / 2)) });
  return { max, half };
}

async function call(url: string, token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Runs `work(i)` for i in [0, n) with at most `width` at a time. */
async function pool(n: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) await work(next++);
  }));
}

const token = (role: 'operator' | 'tenant-admin', tenantId?: string) =>
  signToken(secret, { subject: `bench-${tenantId ?? 'op'}`, role, ...(tenantId === undefined ? {} : { tenantId }), ttlSeconds: 3600 });

try {
  // 1. References: Fastify hello-world, and the store's append ceiling.
  const helloUrl = await serve(['-e', HELLO_WORLD_SOURCE], {}, HELLO_WORLD_LISTENING);
  const hello = await load('Fastify hello-world (reference)', { url: helloUrl }, { warmUp: true });
  servers.stopLast();
  const append = await lastJsonLine(['--import', 'tsx', 'bench/append.ts'], { BENCH_SECONDS: String(Math.min(seconds, 4)) });
  const storeAppendsPerSec = append['appendsPerSec128'] as number;
  console.log(`${'event store, 128 appenders (bench:append)'.padEnd(46)} ${fmt(storeAppendsPerSec)} appends/s`);

  // 2. NovaCron as `novacron start` runs it, durable commits.
  const env = { NOVACRON_DATA_DIR: dataDir, NOVACRON_PORT: '0', NOVACRON_JWT_SECRET: secret, NOVACRON_LOG_LEVEL: 'warn', NOVACRON_RATE_LIMIT_RATE: '0', NOVACRON_SQLITE_SYNC: 'full' };
  // BENCH_PROFILE_DIR: the server runs under `node --cpu-prof`, its profile written there when it stops.
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const url = await serve([...profile, 'bin/novacron.mjs', 'start'], env, /^NovaCron API listening on (http:\/\/\S+)/);
  const operator = token('operator');
  const started = performance.now();
  const regions = Array.from({ length: regionCount }, (_, r) => `region-${r}`);
  for (const [r, id] of regions.entries()) {
    await call(url, operator, 'POST', '/v1/regions', { id, name: id, lat: 40 + r, lon: -5 + r * 10, complianceZone: 'eu', costPerVcpuHour: 0.02 });
    for (const c of [0, 1]) await call(url, operator, 'POST', '/v1/clusters', { id: `${id}-c${c}`, regionId: id });
  }
  await pool(nodeCount, 16, async (i) => {
    const regionId = regions[i % regionCount] as string;
    await call(url, operator, 'POST', '/v1/nodes', { id: `node-${i}`, regionId, clusterId: `${regionId}-c${i % 2}`, vcpus: 4096, memoryMiB: 16_777_216, diskGiB: 1_000_000 });
  });
  const tenants = [...Array.from({ length: tenantCount }, (_, i) => `tenant-${i}`), 'hot'];
  const quota = { vms: 10_000_000, vcpus: 100_000_000, memoryMiB: 2_000_000_000, diskGiB: 2_000_000_000 };
  await pool(tenants.length, 16, async (i) => {
    const id = tenants[i] as string;
    await call(url, operator, 'POST', '/v1/tenants', { id, name: id, quota, allowedRegions: regions });
  });
  const tokens = new Map(tenants.map((id) => [id, token('tenant-admin', id)]));
  const spec = { vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12' };
  const vms: Array<{ id: string; auth: string }> = [];
  await pool(vmCount, 64, async (i) => {
    const tenantId = tenants[i % tenantCount] as string;
    const auth = tokens.get(tenantId) as string;
    const created = await call(url, auth, 'POST', '/v1/vms', { name: `seed-${i}`, ...spec });
    vms.push({ id: String(created['id']), auth: `Bearer ${auth}` });
  });
  console.log(`seeded ${regionCount} regions, ${regionCount * 2} clusters, ${nodeCount} nodes, ${tenants.length} tenants, ${vmCount} VMs in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const json = { 'content-type': 'application/json' };
  let n = 0;
  const hotAuth = `Bearer ${tokens.get('hot')}`;
  const createsHot = await maxAndHalf('POST /v1/vms, one hot tenant', {
    url,
    headers: { ...json, authorization: hotAuth },
    requests: [{ method: 'POST', path: '/v1/vms', setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `hot-${n++}`, ...spec }) }) }],
  });
  const manyAuth = tenants.slice(0, tenantCount).map((id) => `Bearer ${tokens.get(id)}`);
  const createsMany = await maxAndHalf(`POST /v1/vms, ${tenantCount} tenants`, {
    url,
    requests: [{ method: 'POST', path: '/v1/vms', setupRequest: (req) => ({ ...req, headers: { ...json, authorization: manyAuth[n % manyAuth.length] as string }, body: JSON.stringify({ name: `many-${n++}`, ...spec }) }) }],
  });
  // Each seeded VM (created stopped) goes through start → pause → resume → restart → stop, in order, round robin over the VMs.
  const cycle = ['start', 'pause', 'resume', 'restart', 'stop'];
  const step = new Map<string, number>();
  let v = 0;
  const lifecycle = await maxAndHalf('VM lifecycle mix (start/pause/resume/restart/stop)', {
    url,
    requests: [{
      method: 'POST',
      setupRequest: (req) => {
        const vm = vms[v++ % vms.length] as { id: string; auth: string };
        const k = step.get(vm.id) ?? 0;
        step.set(vm.id, k + 1);
        return { ...req, path: `/v1/vms/${vm.id}/${cycle[k % cycle.length]}`, headers: { ...json, authorization: vm.auth }, body: '{}' };
      },
    }],
  });
  const getVm = await maxAndHalf('GET /v1/vms/{id}', {
    url,
    requests: [{ method: 'GET', setupRequest: (req) => {
      const vm = vms[v++ % vms.length] as { id: string; auth: string };
      return { ...req, path: `/v1/vms/${vm.id}`, headers: { authorization: vm.auth } };
    } }],
  }, true);
  const listVms = await maxAndHalf('GET /v1/vms?limit=50 (one page)', { url: `${url}/v1/vms?limit=50`, headers: { authorization: manyAuth[0] as string } }, true);

  const all = { createsHot, createsMany, lifecycle, getVm, listVms };
  const statusTotals = (status: (s: string) => boolean) =>
    Object.values(all).reduce((sum, { max, half }) => sum + [max, half].reduce((s, f) => s + Object.entries(f.statuses).filter(([k]) => status(k)).reduce((a, [, c]) => a + c, 0), 0), 0);
  const ratio = (x: number, of: number) => Number((x / of).toFixed(3));
  const figures = {
    seconds,
    connections,
    nodes: nodeCount,
    tenants: tenants.length,
    seededVms: vmCount,
    helloRps: Math.round(hello.reqPerSec),
    storeAppendsPerSec,
    createsHotTenantPerSec: Math.round(createsHot.max.reqPerSec),
    createsManyTenantsPerSec: Math.round(createsMany.max.reqPerSec),
    lifecyclePerSec: Math.round(lifecycle.max.reqPerSec),
    getVmPerSec: Math.round(getVm.max.reqPerSec),
    listVmsPerSec: Math.round(listVms.max.reqPerSec),
    createsP50Ms: createsMany.max.p50Ms,
    createsP99Ms: createsMany.max.p99Ms,
    createsP99AtHalfMs: Math.max(createsMany.half.p99Ms, createsHot.half.p99Ms),
    lifecycleP99AtHalfMs: lifecycle.half.p99Ms,
    getVmP99AtHalfMs: getVm.half.p99Ms,
    listVmsP99AtHalfMs: listVms.half.p99Ms,
    createsManyOfStore: ratio(createsMany.max.reqPerSec, storeAppendsPerSec),
    createsHotOfStore: ratio(createsHot.max.reqPerSec, storeAppendsPerSec),
    lifecycleOfHello: ratio(lifecycle.max.reqPerSec, hello.reqPerSec),
    getVmOfHello: ratio(getVm.max.reqPerSec, hello.reqPerSec),
    listVmsOfHello: ratio(listVms.max.reqPerSec, hello.reqPerSec),
    status5xx: statusTotals((s) => s.startsWith('5')),
    status4xx: statusTotals((s) => s.startsWith('4')),
    connectionErrors: statusTotals((s) => s === 'error'),
  };
  console.log(
    `creations over ${tenantCount} tenants ${(figures.createsManyOfStore * 100).toFixed(1)}% and one hot tenant ${(figures.createsHotOfStore * 100).toFixed(1)}% of the store's append ceiling; ` +
      `lifecycle ${(figures.lifecycleOfHello * 100).toFixed(1)}%, GET /v1/vms/{id} ${(figures.getVmOfHello * 100).toFixed(1)}%, GET /v1/vms ${(figures.listVmsOfHello * 100).toFixed(1)}% of hello-world`,
  );
  console.log(JSON.stringify(figures));
} finally {
  await servers.stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
