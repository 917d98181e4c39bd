/**
 * npm run bench:api — the HTTP API under load, beside a Fastify hello-world
 * measured the same way in the same run.
 *
 * Each server runs in a child process of its own (the load generator,
 * autocannon, runs here): first the reference, a bare Fastify app answering
 * `{"hello":"world"}`; then NovaCron as `novacron start` runs it (embedded
 * default, a fresh data dir, durable commits), seeded over HTTP with a region,
 * a cluster, nodes, a tenant and BENCH_VMS VMs (default 200). Measured for
 * BENCH_SECONDS each (default 5) with BENCH_CONNECTIONS connections (default 32):
 * GET /v1/vms/{id}, GET /v1/vms?limit=20, GET /v1/shards/lookup, GET /v1/routes
 * (reads, as a tenant), and POST /v1/vms (VM creations through the reservation
 * saga, 8 connections: each is several durable appends). Every read is
 * preceded by a one-second warm-up that is not counted.
 * The last line printed is a JSON object of the figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createServers, HELLO_WORLD_LISTENING, HELLO_WORLD_SOURCE } from './servers.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const vmCount = Number(process.env.BENCH_VMS ?? 200);
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'novacron-bench-api-'));
const secret = 'bench-api-secret-0123456789abcdef0123456789abcdef';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

const servers = createServers();
const serve = servers.serve;

interface Figures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function load(name: string, options: autocannon.Options): Promise<Figures> {
  if (options.method === undefined && options.requests?.[0]?.method !== 'POST') await autocannon({ connections, ...options, duration: 1 }); // warm-up (JIT, lazily loaded modules), not counted
  const result = await autocannon({ connections, duration: seconds, ...options });
  const figures = { reqPerSec: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
  console.log(`${name.padEnd(44)}: ${fmt(figures.reqPerSec)} req/s  p50 ${figures.p50Ms} ms  p99 ${figures.p99Ms} ms${figures.non2xx + figures.errors > 0 ? `  (${figures.non2xx} non-2xx, ${figures.errors} errors)` : ''}`);
  return figures;
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

async function token(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['bin/novacron.mjs', 'token', ...args], { cwd: root, env: { ...process.env, NOVACRON_JWT_SECRET: secret, NOVACRON_DATA_DIR: dataDir } });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`novacron token ${args.join(' ')} exited with ${String(code)}`);
  return out.trim();
}

try {
  // 1. The reference: Fastify hello-world, no logger, in its own process.
  const helloUrl = await serve(['-e', HELLO_WORLD_SOURCE], {}, HELLO_WORLD_LISTENING);
  const hello = await load('Fastify hello-world (reference)', { url: helloUrl });
  servers.stopLast();

  // 2. NovaCron as `novacron start` runs it.
  // Rate limits off: one tenant makes every request here, far past a tenant's default budget.
  const env = { NOVACRON_DATA_DIR: dataDir, NOVACRON_PORT: '0', NOVACRON_JWT_SECRET: secret, NOVACRON_LOG_LEVEL: 'warn', NOVACRON_RATE_LIMIT_RATE: '0' };
  const url = await serve(['bin/novacron.mjs', 'start'], env, /^NovaCron API listening on (http:\/\/\S+)/);
  const operator = await token(['--role', 'operator']);
  const tenant = await token(['--role', 'tenant-admin', '--tenant', 'acme']);
  let started = performance.now();
  await call(url, operator, 'POST', '/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.021 });
  await call(url, operator, 'POST', '/v1/clusters', { id: 'euw-c1', regionId: 'eu-west' });
  for (let i = 0; i < 40; i++) await call(url, operator, 'POST', '/v1/nodes', { id: `euw-n${i}`, regionId: 'eu-west', clusterId: 'euw-c1', vcpus: 4096, memoryMiB: 16_777_216, diskGiB: 1_000_000 });
  await call(url, operator, 'POST', '/v1/tenants', {
    id: 'acme',
    name: 'Acme',
    contactEmail: 'ops@acme.example',
    quota: { vms: 1_000_000, vcpus: 10_000_000, memoryMiB: 1_000_000_000, diskGiB: 1_000_000_000 },
    allowedRegions: ['eu-west'],
  });
  const spec = { vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12' };
  const ids: string[] = [];
  for (let i = 0; i < vmCount; i++) ids.push(String((await call(url, tenant, 'POST', '/v1/vms', { name: `seed-${i}`, ...spec }))['id']));
  console.log(`seeded: 40 nodes, 1 tenant, ${vmCount} VMs in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const headers = { authorization: `Bearer ${tenant}` };
  let n = 0;
  const vmGet = await load('GET /v1/vms/{id}', { url, headers, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/vms/${ids[n++ % ids.length]}` }) }] });
  const vmList = await load('GET /v1/vms?limit=20', { url: `${url}/v1/vms?limit=20`, headers });
  const shard = await load('GET /v1/shards/lookup?key=', { url, headers, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/shards/lookup?key=${ids[n++ % ids.length]}` }) }] });
  const route = await load('GET /v1/routes?lat=&lon=', { url: `${url}/v1/routes?lat=48.85&lon=2.35`, headers });
  started = performance.now();
  const create = await load('POST /v1/vms (8 connections)', {
    url,
    connections: 8,
    headers: { ...headers, 'content-type': 'application/json' },
    requests: [{ method: 'POST', path: '/v1/vms', setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `load-${n++}`, ...spec }) }) }],
  });

  const figures = {
    seconds,
    connections,
    seededVms: vmCount,
    helloWorldReqPerSec: Math.round(hello.reqPerSec),
    vmGetReqPerSec: Math.round(vmGet.reqPerSec),
    vmGetP99Ms: vmGet.p99Ms,
    vmListReqPerSec: Math.round(vmList.reqPerSec),
    vmListP99Ms: vmList.p99Ms,
    shardLookupReqPerSec: Math.round(shard.reqPerSec),
    routeReqPerSec: Math.round(route.reqPerSec),
    vmCreateReqPerSec: Math.round(create.reqPerSec),
    vmCreateP50Ms: create.p50Ms,
    vmCreateP99Ms: create.p99Ms,
    failures: [vmGet, vmList, shard, route, create].reduce((sum, f) => sum + f.non2xx + f.errors, 0) + hello.non2xx + hello.errors,
  };
  console.log(`GET /v1/vms/{id} at ${((figures.vmGetReqPerSec / figures.helloWorldReqPerSec) * 100).toFixed(0)}% of the hello-world rate`);
  console.log(JSON.stringify(figures));
} finally {
  await servers.stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
