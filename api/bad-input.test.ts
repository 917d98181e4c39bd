/**
 * Bad input on every route of api/routes: each case is one request and the
 * answer it must get (status, code, and for NC_VALIDATION the field named in
 * details). Whatever the request, the answer is never a 500 and nothing is
 * recorded: the event store's head position is the same before and after.
 * (Where a saga must reserve before it can learn there is no room, it records
 * the reservation and its release: `log: 'compensated'` checks they net out.)
 *
 * The cases run against one app whose fixtures (below) put regions, clusters,
 * nodes, tenants and VMs in every state a command can be refused in. `{name}`
 * in a URL or a JSON payload is a fixture id filled in at run time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../streams/errors/index.ts';
import { BODY_LIMIT_BYTES } from './app.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Caller = 'operator' | 'acme-admin' | 'acme-user' | 'globex-admin' | 'anonymous';

interface Case {
  name: string;
  method: Method;
  url: string;
  /** Who calls; default the operator. */
  as?: Caller;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as is (say its content-type in `headers`). */
  payload?: unknown;
  status: number;
  code: ErrorCode;
  /** `details.field` of an NC_VALIDATION answer ('' for the whole body). */
  field?: string;
  /** 'compensated': the saga reserved, found no room, and released again (net zero). Default: nothing recorded. */
  log?: 'compensated';
}

// ── fixtures ────────────────────────────────────────────────────────────────

let f: FleetApp;
const fx: Record<string, string> = {};

const region = (id: string) => ({ id, name: id, lat: 10, lon: 20, complianceZone: 'eu', costPerVcpuHour: 0.02 });
const node = (id: string, regionId: string, clusterId: string, vcpus = 32) => ({ id, regionId, clusterId, vcpus, memoryMiB: 262_144, diskGiB: 10_000 });
const quota = { vms: 20, vcpus: 1000, memoryMiB: 10_000_000, diskGiB: 1_000_000 };
const tenant = (id: string, q = quota) => ({ id, name: id, quota: q, allowedRegions: ['eu-west'] });
const vmBody = { name: 'web', vcpus: 2, memoryMiB: 2048, diskGiB: 20, image: 'debian-12' };

beforeAll(async () => {
  // No background writers (reservation sweeper, shortfall watcher): the only appends are the requests'.
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000', NOVACRON_FORECAST_INTERVAL_MS: '86400000' });
  await seedApi(f, { nodes: 2 }); // eu-west, euw-c1, euw-n0, euw-n1 (32 vCPUs each), tenants acme and globex
  const vm = async (tenantId: string, extra: object = {}) => (await f.setup('POST', '/v1/vms', { ...vmBody, tenantId, ...extra })).id as string;

  // ap-south: active, but no tenant may use it; old-west: retired.
  await f.setup('POST', '/v1/regions', region('ap-south'));
  await f.setup('POST', '/v1/clusters', { id: 'aps-c1', regionId: 'ap-south' });
  await f.setup('POST', '/v1/nodes', node('aps-cordoned', 'ap-south', 'aps-c1'));
  await f.setup('POST', '/v1/nodes/aps-cordoned/cordon');
  await f.setup('POST', '/v1/nodes', node('aps-gone', 'ap-south', 'aps-c1'));
  await f.setup('POST', '/v1/nodes/aps-gone/decommission');
  await f.setup('POST', '/v1/regions', region('old-west'));
  await f.setup('POST', '/v1/regions/old-west/retire');
  await f.setup('POST', '/v1/clusters', { id: 'gone-c', regionId: 'eu-west' });
  await f.setup('POST', '/v1/clusters/gone-c/leave');

  // acme's VMs in each state; one of globex.
  fx.stopped = await vm('acme');
  fx.running = await vm('acme', { start: true });
  fx.paused = await vm('acme', { start: true });
  await f.setup('POST', `/v1/vms/${fx.paused}/pause`);
  fx.deleted = await vm('acme');
  await f.setup('DELETE', `/v1/vms/${fx.deleted}`);
  fx.globexVm = await vm('globex');
  // A failed VM: moved onto a node that then fails.
  fx.failed = await vm('acme');
  await f.setup('POST', '/v1/nodes', node('euw-doomed', 'eu-west', 'euw-c1', 8));
  await f.setup('POST', `/v1/vms/${fx.failed}/migrate`, { kind: 'cold', targetNodeId: 'euw-doomed' });
  await f.setup('POST', '/v1/nodes/euw-doomed/fail', { reason: 'power' });

  const stopped = (await f.app.inject({ method: 'GET', url: `/v1/vms/${fx.stopped}`, headers: f.operator })).json();
  fx.stoppedNode = stopped.nodeId;
  fx.otherNode = stopped.nodeId === 'euw-n0' ? 'euw-n1' : 'euw-n0';

  // sleepy: suspended, with a stopped VM; tiny: a zero quota; snug: a quota its one VM fills; gone: deleted.
  await f.setup('POST', '/v1/tenants', tenant('sleepy'));
  fx.sleepyVm = await vm('sleepy');
  await f.setup('POST', '/v1/tenants/sleepy/suspend', { reason: 'unpaid' });
  await f.setup('POST', '/v1/tenants', tenant('tiny', { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 }));
  await f.setup('POST', '/v1/tenants', tenant('snug', { vms: 1, vcpus: 2, memoryMiB: 2048, diskGiB: 20 }));
  fx.snugVm = await vm('snug');
  await f.setup('POST', '/v1/tenants', tenant('gone'));
  await f.setup('DELETE', '/v1/tenants/gone');
});

afterAll(async () => f?.close());

// ── the runner ──────────────────────────────────────────────────────────────

const fill = (url: string) =>
  url.replace(/\{(\w+)\}/g, (_, key: string) => {
    const id = fx[key];
    if (id === undefined) throw new Error(`no fixture ${key}`);
    return id;
  });

function headersOf(as: Caller): Record<string, string> {
  switch (as) {
    case 'operator':
      return f.operator;
    case 'acme-admin':
      return f.tenant('acme', 'tenant-admin');
    case 'acme-user':
      return f.tenant('acme', 'tenant-user');
    case 'globex-admin':
      return f.tenant('globex', 'tenant-admin');
    case 'anonymous':
      return {};
  }
}

const RESERVATION_EVENTS = new Set(['QuotaReserved', 'QuotaReleased', 'CapacityReserved', 'CapacityReleased']);

async function expectRejected(c: Case): Promise<void> {
  const store = f.platform.store;
  const before = await store.headPosition();
  const response = await f.app.inject({
    method: c.method,
    url: fill(c.url),
    headers: { ...headersOf(c.as ?? 'operator'), ...c.headers },
    ...(c.payload === undefined ? {} : { payload: typeof c.payload === 'string' ? c.payload : (JSON.parse(fill(JSON.stringify(c.payload))) as object) }),
  });
  const what = `${c.method} ${c.url} answered ${response.statusCode} ${response.body.slice(0, 500)}`;
  expect(response.statusCode, what).toBe(c.status);
  const body = response.json();
  expect(Object.keys(body), what).toEqual(['error']);
  expect(body.error.code, what).toBe(c.code);
  expect(body.error.message, what).toEqual(expect.any(String));
  if (c.code === 'NC_VALIDATION') {
    expect(c.field, `case "${c.name}" must say which field is invalid`).toBeDefined();
    expect(body.error.details?.field, what).toBe(c.field);
  } else if (c.field !== undefined) {
    expect(body.error.details?.field, what).toBe(c.field);
  }

  const after = await store.headPosition();
  if (c.log === 'compensated') {
    const appended = await store.readAll({ fromPosition: before + 1 });
    expect(appended.map((e) => e.type).filter((type) => !RESERVATION_EVENTS.has(type)), what).toEqual([]);
    const ids = (suffix: string) => appended.filter((e) => e.type.endsWith(suffix)).map((e) => String(e.data.reservationId)).sort();
    expect(ids('Released'), `${what}: every reservation is released`).toEqual(ids('Reserved'));
  } else {
    expect(after, `${what}: recorded events`).toBe(before);
  }
}

function cases(list: Case[]): void {
  for (const c of list) it(`${c.name} → ${c.status} ${c.code}`, () => expectRejected(c));
}

// ── shared cases ────────────────────────────────────────────────────────────

const V = { status: 400, code: 'NC_VALIDATION' } as const;
const NOT_FOUND = { status: 404, code: 'NC_NOT_FOUND' } as const;
const WRONG_STATE = { status: 409, code: 'NC_INVALID_STATE' } as const;
const JSON_TYPE = { 'content-type': 'application/json' };
const HUGE = `{"name":"${'x'.repeat(BODY_LIMIT_BYTES)}"}`;

/**
 * What every route that reads a body must refuse, whatever the body should hold.
 * `optional`: the route's body may be left out (action POSTs), so an empty body
 * said to be JSON is no body and the command runs (issue 12 item 5; api/hostile-input.test.ts).
 */
function bodyCases(method: Method, url: string, as: Caller = 'operator', { optional = false }: { optional?: boolean } = {}): Case[] {
  const cases: Case[] = [
    { name: 'malformed JSON', method, url, as, headers: JSON_TYPE, payload: '{"name": ', status: 400, code: 'NC_MALFORMED_JSON' },
    { name: 'JSON with a trailing comma', method, url, as, headers: JSON_TYPE, payload: '{"name": "a",}', status: 400, code: 'NC_MALFORMED_JSON' },
    { name: 'empty body said to be JSON', method, url, as, headers: JSON_TYPE, payload: '', status: 400, code: 'NC_MALFORMED_JSON' },
    { name: 'text/plain body', method, url, as, headers: { 'content-type': 'text/plain' }, payload: 'hello', status: 415, code: 'NC_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'form body', method, url, as, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=a', status: 415, code: 'NC_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'body over 1 MiB', method, url, as, headers: JSON_TYPE, payload: HUGE, status: 413, code: 'NC_PAYLOAD_TOO_LARGE' },
  ];
  return optional ? cases.filter((c) => c.name !== 'empty body said to be JSON') : cases;
}

/** …and, where a body is required to be an object, these. */
function objectBodyCases(method: Method, url: string, as: Caller = 'operator'): Case[] {
  return [
    ...bodyCases(method, url, as),
    { name: 'a JSON array', method, url, as, payload: '[]', headers: JSON_TYPE, ...V, field: '' },
    { name: 'JSON null', method, url, as, payload: 'null', headers: JSON_TYPE, ...V, field: '' },
    { name: 'a JSON string', method, url, as, payload: '"region"', headers: JSON_TYPE, ...V, field: '' },
  ];
}

const long = (n: number) => 'a'.repeat(n);

// ── regions ─────────────────────────────────────────────────────────────────

describe('POST /v1/regions', () => {
  const url = '/v1/regions';
  const r = region('new-region');
  const { id: _id, ...withoutId } = r;
  cases([
    ...objectBodyCases('POST', url),
    { name: 'missing id', method: 'POST', url, payload: withoutId, ...V, field: 'id' },
    { name: 'missing every field', method: 'POST', url, payload: {}, ...V, field: 'id' },
    { name: 'id with a slash', method: 'POST', url, payload: { ...r, id: 'eu/west' }, ...V, field: 'id' },
    { name: 'id of 129 characters', method: 'POST', url, payload: { ...r, id: long(129) }, ...V, field: 'id' },
    { name: 'id a number', method: 'POST', url, payload: { ...r, id: 7 }, ...V, field: 'id' },
    { name: 'empty name', method: 'POST', url, payload: { ...r, name: '' }, ...V, field: 'name' },
    { name: 'blank name', method: 'POST', url, payload: { ...r, name: '   ' }, ...V, field: 'name' },
    { name: 'name of 256 characters', method: 'POST', url, payload: { ...r, name: long(256) }, ...V, field: 'name' },
    { name: 'lat above 90', method: 'POST', url, payload: { ...r, lat: 90.5 }, ...V, field: 'lat' },
    { name: 'lat a string', method: 'POST', url, payload: { ...r, lat: '53' }, ...V, field: 'lat' },
    { name: 'lon below -180', method: 'POST', url, payload: { ...r, lon: -181 }, ...V, field: 'lon' },
    { name: 'lon 1e400 (Infinity)', method: 'POST', url, headers: JSON_TYPE, payload: JSON.stringify(r).replace('"lon":20', '"lon":1e400'), ...V, field: 'lon' },
    { name: 'complianceZone of 65 characters', method: 'POST', url, payload: { ...r, complianceZone: long(65) }, ...V, field: 'complianceZone' },
    { name: 'negative cost', method: 'POST', url, payload: { ...r, costPerVcpuHour: -0.01 }, ...V, field: 'costPerVcpuHour' },
    { name: 'zero shards', method: 'POST', url, payload: { ...r, shards: 0 }, ...V, field: 'shards' },
    { name: 'fractional shards', method: 'POST', url, payload: { ...r, shards: 1.5 }, ...V, field: 'shards' },
    { name: '10001 shards', method: 'POST', url, payload: { ...r, shards: 10_001 }, ...V, field: 'shards' },
    { name: 'unknown field', method: 'POST', url, payload: { ...r, color: 'blue' }, ...V, field: 'color' },
    { name: 'a region that exists', method: 'POST', url, payload: region('eu-west'), status: 409, code: 'NC_ALREADY_EXISTS' },
  ]);
});

describe('PATCH /v1/regions/:id', () => {
  const url = '/v1/regions/eu-west';
  cases([
    ...objectBodyCases('PATCH', url),
    { name: 'nothing to change', method: 'PATCH', url, payload: {}, ...V, field: '' },
    { name: 'lat below -90', method: 'PATCH', url, payload: { lat: -91 }, ...V, field: 'lat' },
    { name: 'shards negative', method: 'PATCH', url, payload: { shards: -1 }, ...V, field: 'shards' },
    { name: 'name null', method: 'PATCH', url, payload: { name: null }, ...V, field: 'name' },
    { name: 'blank name', method: 'PATCH', url, payload: { name: ' ' }, ...V, field: 'name' },
    { name: 'unknown field', method: 'PATCH', url, payload: { status: 'retired' }, ...V, field: 'status' },
    { name: 'id with a space', method: 'PATCH', url: '/v1/regions/eu%20west', payload: { name: 'x' }, ...V, field: 'id' },
    { name: 'unknown region', method: 'PATCH', url: '/v1/regions/nowhere', payload: { name: 'x' }, ...NOT_FOUND },
    { name: 'a retired region', method: 'PATCH', url: '/v1/regions/old-west', payload: { name: 'x' }, status: 409, code: 'NC_REGION_RETIRED' },
  ]);
});

describe('POST /v1/regions/:id/retire', () => {
  cases([
    ...bodyCases('POST', '/v1/regions/eu-west/retire', 'operator', { optional: true }),
    { name: 'retired twice', method: 'POST', url: '/v1/regions/old-west/retire', status: 409, code: 'NC_REGION_RETIRED' },
    { name: 'unknown region', method: 'POST', url: '/v1/regions/nowhere/retire', ...NOT_FOUND },
    { name: 'id of 129 characters', method: 'POST', url: `/v1/regions/${long(129)}/retire`, ...V, field: 'id' },
  ]);
});

describe('GET /v1/regions/:id', () => {
  cases([
    { name: 'unknown region', method: 'GET', url: '/v1/regions/nowhere', ...NOT_FOUND },
    { name: 'unknown region, as a tenant', method: 'GET', url: '/v1/regions/nowhere', as: 'acme-user', ...NOT_FOUND },
    { name: 'id starting with a dot', method: 'GET', url: '/v1/regions/.hidden', ...V, field: 'id' },
  ]);
});

// ── clusters ────────────────────────────────────────────────────────────────

describe('POST /v1/clusters', () => {
  const url = '/v1/clusters';
  cases([
    ...objectBodyCases('POST', url),
    { name: 'missing regionId', method: 'POST', url, payload: { id: 'c9' }, ...V, field: 'regionId' },
    { name: 'id empty', method: 'POST', url, payload: { id: '', regionId: 'eu-west' }, ...V, field: 'id' },
    { name: 'regionId a list', method: 'POST', url, payload: { id: 'c9', regionId: ['eu-west'] }, ...V, field: 'regionId' },
    { name: 'unknown field', method: 'POST', url, payload: { id: 'c9', regionId: 'eu-west', size: 3 }, ...V, field: 'size' },
    { name: 'unknown region', method: 'POST', url, payload: { id: 'c9', regionId: 'nowhere' }, ...NOT_FOUND },
    { name: 'a retired region', method: 'POST', url, payload: { id: 'c9', regionId: 'old-west' }, status: 409, code: 'NC_REGION_RETIRED' },
    { name: 'a cluster joined to another region', method: 'POST', url, payload: { id: 'euw-c1', regionId: 'ap-south' }, ...WRONG_STATE },
  ]);
});

describe('POST /v1/clusters/:id/leave', () => {
  cases([
    ...bodyCases('POST', '/v1/clusters/euw-c1/leave', 'operator', { optional: true }),
    { name: 'left twice', method: 'POST', url: '/v1/clusters/gone-c/leave', ...WRONG_STATE },
    { name: 'unknown cluster', method: 'POST', url: '/v1/clusters/nope/leave', ...NOT_FOUND },
  ]);
});

describe('POST /v1/clusters/:id/health', () => {
  const url = '/v1/clusters/euw-c1/health';
  cases([
    ...objectBodyCases('POST', url),
    { name: 'missing healthy', method: 'POST', url, payload: { detail: 'ok' }, ...V, field: 'healthy' },
    { name: 'healthy a string', method: 'POST', url, payload: { healthy: 'yes' }, ...V, field: 'healthy' },
    { name: 'healthy 1', method: 'POST', url, payload: { healthy: 1 }, ...V, field: 'healthy' },
    { name: 'detail of 1001 characters', method: 'POST', url, payload: { healthy: true, detail: long(1001) }, ...V, field: 'detail' },
    { name: 'unknown field', method: 'POST', url, payload: { healthy: true, latencyMs: 3 }, ...V, field: 'latencyMs' },
    { name: 'a cluster that left', method: 'POST', url: '/v1/clusters/gone-c/health', payload: { healthy: true }, ...WRONG_STATE },
    { name: 'unknown cluster', method: 'POST', url: '/v1/clusters/nope/health', payload: { healthy: true }, ...NOT_FOUND },
  ]);
});

describe('GET /v1/clusters/:id', () => {
  cases([
    { name: 'unknown cluster', method: 'GET', url: '/v1/clusters/nope', ...NOT_FOUND },
    { name: 'id with a percent-encoded slash', method: 'GET', url: '/v1/clusters/a%2Fb', ...V, field: 'id' },
  ]);
});

// ── nodes ───────────────────────────────────────────────────────────────────

describe('POST /v1/nodes', () => {
  const url = '/v1/nodes';
  const n = node('euw-n9', 'eu-west', 'euw-c1');
  const { diskGiB: _disk, ...withoutDisk } = n;
  cases([
    ...objectBodyCases('POST', url),
    { name: 'missing diskGiB', method: 'POST', url, payload: withoutDisk, ...V, field: 'diskGiB' },
    { name: 'zero vcpus', method: 'POST', url, payload: { ...n, vcpus: 0 }, ...V, field: 'vcpus' },
    { name: 'negative vcpus', method: 'POST', url, payload: { ...n, vcpus: -4 }, ...V, field: 'vcpus' },
    { name: 'vcpus a string', method: 'POST', url, payload: { ...n, vcpus: '32' }, ...V, field: 'vcpus' },
    { name: 'fractional memory', method: 'POST', url, payload: { ...n, memoryMiB: 1024.5 }, ...V, field: 'memoryMiB' },
    { name: 'disk beyond 2^31-1', method: 'POST', url, payload: { ...n, diskGiB: 2_147_483_648 }, ...V, field: 'diskGiB' },
    { name: 'overcommit below 1', method: 'POST', url, payload: { ...n, overcommit: 0.5 }, ...V, field: 'overcommit' },
    { name: 'overcommit above 16', method: 'POST', url, payload: { ...n, overcommit: 17 }, ...V, field: 'overcommit' },
    { name: 'a label that is a number', method: 'POST', url, payload: { ...n, labels: { rack: 7 } }, ...V, field: 'labels.rack' },
    { name: 'a label of 256 characters', method: 'POST', url, payload: { ...n, labels: { rack: long(256) } }, ...V, field: 'labels.rack' },
    { name: '65 labels', method: 'POST', url, payload: { ...n, labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, ...V, field: 'labels' },
    { name: 'unknown field', method: 'POST', url, payload: { ...n, gpu: true }, ...V, field: 'gpu' },
    { name: 'a node that exists', method: 'POST', url, payload: node('euw-n0', 'eu-west', 'euw-c1'), status: 409, code: 'NC_ALREADY_EXISTS' },
    { name: 'unknown region', method: 'POST', url, payload: { ...n, regionId: 'nowhere', clusterId: undefined }, ...NOT_FOUND },
    { name: 'a retired region', method: 'POST', url, payload: { ...n, regionId: 'old-west', clusterId: undefined }, status: 409, code: 'NC_REGION_RETIRED' },
    { name: 'unknown cluster', method: 'POST', url, payload: { ...n, clusterId: 'nope' }, ...NOT_FOUND },
    { name: "another region's cluster", method: 'POST', url, payload: { ...n, clusterId: 'aps-c1' }, ...V, field: 'clusterId' },
    { name: 'a cluster that left', method: 'POST', url, payload: { ...n, clusterId: 'gone-c' }, ...V, field: 'clusterId' },
  ]);
});

describe('PUT /v1/nodes/:id/capacity', () => {
  const url = '/v1/nodes/euw-n0/capacity';
  const c = { vcpus: 64, memoryMiB: 262_144, diskGiB: 10_000 };
  cases([
    ...objectBodyCases('PUT', url),
    { name: 'missing vcpus', method: 'PUT', url, payload: { memoryMiB: 1, diskGiB: 1 }, ...V, field: 'vcpus' },
    { name: 'zero memory', method: 'PUT', url, payload: { ...c, memoryMiB: 0 }, ...V, field: 'memoryMiB' },
    { name: 'negative disk', method: 'PUT', url, payload: { ...c, diskGiB: -1 }, ...V, field: 'diskGiB' },
    { name: 'vcpus above 1000000', method: 'PUT', url, payload: { ...c, vcpus: 1_000_001 }, ...V, field: 'vcpus' },
    { name: 'overcommit a string', method: 'PUT', url, payload: { ...c, overcommit: '2' }, ...V, field: 'overcommit' },
    { name: 'unknown field', method: 'PUT', url, payload: { ...c, gpus: 2 }, ...V, field: 'gpus' },
    { name: 'below what is allocated', method: 'PUT', url: '/v1/nodes/{stoppedNode}/capacity', payload: { ...c, vcpus: 1 }, status: 422, code: 'NC_CAPACITY_EXHAUSTED' },
    { name: 'a decommissioned node', method: 'PUT', url: '/v1/nodes/aps-gone/capacity', payload: c, ...WRONG_STATE },
    { name: 'unknown node', method: 'PUT', url: '/v1/nodes/nope/capacity', payload: c, ...NOT_FOUND },
  ]);
});

describe('POST /v1/nodes/:id/:action', () => {
  cases([
    ...bodyCases('POST', '/v1/nodes/euw-n0/cordon', 'operator', { optional: true }),
    { name: 'unknown action', method: 'POST', url: '/v1/nodes/euw-n0/explode', ...V, field: 'action' },
    { name: 'empty reason', method: 'POST', url: '/v1/nodes/euw-n0/cordon', payload: { reason: '' }, ...V, field: 'reason' },
    { name: 'reason of 1001 characters', method: 'POST', url: '/v1/nodes/euw-n0/drain', payload: { reason: long(1001) }, ...V, field: 'reason' },
    { name: 'reason a number', method: 'POST', url: '/v1/nodes/euw-n0/fail', payload: { reason: 42 }, ...V, field: 'reason' },
    { name: 'unknown field', method: 'POST', url: '/v1/nodes/euw-n0/cordon', payload: { force: true }, ...V, field: 'force' },
    { name: 'decommission a node with VMs', method: 'POST', url: '/v1/nodes/{stoppedNode}/decommission', ...WRONG_STATE },
    { name: 'decommission a failed node with VMs', method: 'POST', url: '/v1/nodes/euw-doomed/decommission', ...WRONG_STATE },
    { name: 'decommission twice', method: 'POST', url: '/v1/nodes/aps-gone/decommission', ...WRONG_STATE },
    { name: 'cordon a cordoned node', method: 'POST', url: '/v1/nodes/aps-cordoned/cordon', ...WRONG_STATE },
    { name: 'uncordon an active node', method: 'POST', url: '/v1/nodes/euw-n0/uncordon', ...WRONG_STATE },
    { name: 'cordon a failed node', method: 'POST', url: '/v1/nodes/euw-doomed/cordon', ...WRONG_STATE },
    { name: 'fail a failed node', method: 'POST', url: '/v1/nodes/euw-doomed/fail', ...WRONG_STATE },
    { name: 'drain a failed node', method: 'POST', url: '/v1/nodes/euw-doomed/drain', ...WRONG_STATE },
    { name: 'drain a decommissioned node', method: 'POST', url: '/v1/nodes/aps-gone/drain', ...WRONG_STATE },
    { name: 'fail a decommissioned node', method: 'POST', url: '/v1/nodes/aps-gone/fail', ...WRONG_STATE },
    ...(['cordon', 'uncordon', 'drain', 'fail', 'decommission'] as const).map(
      (action): Case => ({ name: `${action} an unknown node`, method: 'POST', url: `/v1/nodes/nope/${action}`, ...NOT_FOUND }),
    ),
  ]);
});

describe('GET /v1/nodes/:id', () => {
  cases([
    { name: 'unknown node', method: 'GET', url: '/v1/nodes/nope', ...NOT_FOUND },
    { name: 'id of 200 characters', method: 'GET', url: `/v1/nodes/${long(200)}`, ...V, field: 'id' },
  ]);
});

// ── tenants ─────────────────────────────────────────────────────────────────

describe('POST /v1/tenants', () => {
  const url = '/v1/tenants';
  const t = tenant('initech');
  cases([
    ...objectBodyCases('POST', url),
    { name: 'missing quota', method: 'POST', url, payload: { id: 'initech', name: 'x', allowedRegions: ['eu-west'] }, ...V, field: 'quota' },
    { name: 'id with a space', method: 'POST', url, payload: { ...t, id: 'ini tech' }, ...V, field: 'id' },
    { name: 'id of 129 characters', method: 'POST', url, payload: { ...t, id: long(129) }, ...V, field: 'id' },
    { name: 'empty name', method: 'POST', url, payload: { ...t, name: '' }, ...V, field: 'name' },
    { name: 'contactEmail without @', method: 'POST', url, payload: { ...t, contactEmail: 'ops.initech' }, ...V, field: 'contactEmail' },
    { name: 'negative quota', method: 'POST', url, payload: { ...t, quota: { ...quota, vcpus: -1 } }, ...V, field: 'quota.vcpus' },
    { name: 'quota beyond 2^31-1', method: 'POST', url, payload: { ...t, quota: { ...quota, memoryMiB: 2 ** 31 } }, ...V, field: 'quota.memoryMiB' },
    { name: 'quota missing vms', method: 'POST', url, payload: { ...t, quota: { vcpus: 1, memoryMiB: 1, diskGiB: 1 } }, ...V, field: 'quota.vms' },
    { name: 'quota with an unknown dimension', method: 'POST', url, payload: { ...t, quota: { ...quota, gpus: 1 } }, ...V, field: 'quota.gpus' },
    { name: 'no allowed region', method: 'POST', url, payload: { ...t, allowedRegions: [] }, ...V, field: 'allowedRegions' },
    { name: 'a region twice', method: 'POST', url, payload: { ...t, allowedRegions: ['eu-west', 'eu-west'] }, ...V, field: 'allowedRegions' },
    { name: 'unknown field', method: 'POST', url, payload: { ...t, plan: 'gold' }, ...V, field: 'plan' },
    { name: 'an unknown allowed region', method: 'POST', url, payload: { ...t, allowedRegions: ['eu-west', 'nowhere'] }, ...NOT_FOUND },
    { name: 'a tenant that exists', method: 'POST', url, payload: tenant('acme'), status: 409, code: 'NC_ALREADY_EXISTS' },
  ]);
});

describe('PUT /v1/tenants/:id/quota', () => {
  const url = '/v1/tenants/acme/quota';
  cases([
    ...objectBodyCases('PUT', url),
    { name: 'vms a string', method: 'PUT', url, payload: { ...quota, vms: '20' }, ...V, field: 'vms' },
    { name: 'negative disk', method: 'PUT', url, payload: { ...quota, diskGiB: -5 }, ...V, field: 'diskGiB' },
    { name: 'missing memory', method: 'PUT', url, payload: { vms: 1, vcpus: 1, diskGiB: 1 }, ...V, field: 'memoryMiB' },
    { name: 'wrapped in { quota }', method: 'PUT', url, payload: { quota }, ...V, field: 'vms' },
    { name: 'below what the tenant uses', method: 'PUT', url: '/v1/tenants/snug/quota', payload: { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 }, status: 422, code: 'NC_QUOTA_EXCEEDED' },
    { name: 'a deleted tenant', method: 'PUT', url: '/v1/tenants/gone/quota', payload: quota, ...WRONG_STATE },
    { name: 'unknown tenant', method: 'PUT', url: '/v1/tenants/nobody/quota', payload: quota, ...NOT_FOUND },
    { name: 'tenant id with a space', method: 'PUT', url: '/v1/tenants/no%20body/quota', payload: quota, ...V, field: 'id' },
  ]);
});

describe('POST /v1/tenants/:id/:action', () => {
  cases([
    ...bodyCases('POST', '/v1/tenants/acme/suspend', 'operator', { optional: true }),
    { name: 'unknown action', method: 'POST', url: '/v1/tenants/acme/promote', ...V, field: 'action' },
    { name: 'empty reason', method: 'POST', url: '/v1/tenants/acme/suspend', payload: { reason: '' }, ...V, field: 'reason' },
    { name: 'reason of 1001 characters', method: 'POST', url: '/v1/tenants/acme/suspend', payload: { reason: long(1001) }, ...V, field: 'reason' },
    { name: 'unknown field', method: 'POST', url: '/v1/tenants/acme/suspend', payload: { until: '2030-01-01' }, ...V, field: 'until' },
    { name: 'suspend a suspended tenant', method: 'POST', url: '/v1/tenants/sleepy/suspend', ...WRONG_STATE },
    { name: 'reactivate an active tenant', method: 'POST', url: '/v1/tenants/acme/reactivate', ...WRONG_STATE },
    { name: 'suspend a deleted tenant', method: 'POST', url: '/v1/tenants/gone/suspend', ...WRONG_STATE },
    { name: 'suspend an unknown tenant', method: 'POST', url: '/v1/tenants/nobody/suspend', ...NOT_FOUND },
    { name: 'reactivate an unknown tenant', method: 'POST', url: '/v1/tenants/nobody/reactivate', ...NOT_FOUND },
  ]);
});

describe('DELETE /v1/tenants/:id', () => {
  cases([
    { name: 'a tenant with VMs', method: 'DELETE', url: '/v1/tenants/acme', ...WRONG_STATE },
    { name: 'a suspended tenant with a VM', method: 'DELETE', url: '/v1/tenants/sleepy', ...WRONG_STATE },
    { name: 'deleted twice', method: 'DELETE', url: '/v1/tenants/gone', ...WRONG_STATE },
    { name: 'unknown tenant', method: 'DELETE', url: '/v1/tenants/nobody', ...NOT_FOUND },
    { name: 'id starting with a dash', method: 'DELETE', url: '/v1/tenants/-acme', ...V, field: 'id' },
  ]);
});

describe('GET /v1/tenants/:id', () => {
  cases([
    { name: 'unknown tenant', method: 'GET', url: '/v1/tenants/nobody', ...NOT_FOUND },
    { name: 'another tenant, as a tenant-admin', method: 'GET', url: '/v1/tenants/globex', as: 'acme-admin', ...NOT_FOUND },
    { name: 'an unknown tenant, as a tenant-user', method: 'GET', url: '/v1/tenants/nobody', as: 'acme-user', ...NOT_FOUND },
    { name: 'id with a bang', method: 'GET', url: '/v1/tenants/acme!', ...V, field: 'id' },
  ]);
});

// ── VMs ─────────────────────────────────────────────────────────────────────

describe('POST /v1/vms', () => {
  const url = '/v1/vms';
  const as = 'acme-admin';
  const { image: _image, ...withoutImage } = vmBody;
  cases([
    ...objectBodyCases('POST', url, as),
    { name: 'missing image', method: 'POST', url, as, payload: withoutImage, ...V, field: 'image' },
    { name: 'empty name', method: 'POST', url, as, payload: { ...vmBody, name: '' }, ...V, field: 'name' },
    { name: 'blank name', method: 'POST', url, as, payload: { ...vmBody, name: '  ' }, ...V, field: 'name' },
    { name: 'name of 256 characters', method: 'POST', url, as, payload: { ...vmBody, name: long(256) }, ...V, field: 'name' },
    { name: 'blank image', method: 'POST', url, as, payload: { ...vmBody, image: ' ' }, ...V, field: 'image' },
    { name: 'zero vcpus', method: 'POST', url, as, payload: { ...vmBody, vcpus: 0 }, ...V, field: 'vcpus' },
    { name: '129 vcpus', method: 'POST', url, as, payload: { ...vmBody, vcpus: 129 }, ...V, field: 'vcpus' },
    { name: 'vcpus a string', method: 'POST', url, as, payload: { ...vmBody, vcpus: '2' }, ...V, field: 'vcpus' },
    { name: 'memory below 512 MiB', method: 'POST', url, as, payload: { ...vmBody, memoryMiB: 511 }, ...V, field: 'memoryMiB' },
    { name: 'negative disk', method: 'POST', url, as, payload: { ...vmBody, diskGiB: -20 }, ...V, field: 'diskGiB' },
    { name: 'disk above 10 TiB', method: 'POST', url, as, payload: { ...vmBody, diskGiB: 10_241 }, ...V, field: 'diskGiB' },
    { name: 'fractional disk', method: 'POST', url, as, payload: { ...vmBody, diskGiB: 20.5 }, ...V, field: 'diskGiB' },
    { name: 'unknown placement', method: 'POST', url, as, payload: { ...vmBody, placement: 'random' }, ...V, field: 'placement' },
    { name: 'start a string', method: 'POST', url, as, payload: { ...vmBody, start: 'yes' }, ...V, field: 'start' },
    { name: '33 SSH keys', method: 'POST', url, as, payload: { ...vmBody, sshPublicKeys: Array.from({ length: 33 }, (_, i) => `ssh-ed25519 K${i}`) }, ...V, field: 'sshPublicKeys' },
    { name: 'an empty SSH key', method: 'POST', url, as, payload: { ...vmBody, sshPublicKeys: [''] }, ...V, field: 'sshPublicKeys.0' },
    { name: 'a blank SSH key', method: 'POST', url, as, payload: { ...vmBody, sshPublicKeys: ['ssh-ed25519 K', '   '] }, ...V, field: 'sshPublicKeys.1' },
    { name: 'the same SSH key twice', method: 'POST', url, as, payload: { ...vmBody, sshPublicKeys: ['ssh-ed25519 K', 'ssh-ed25519 K'] }, ...V, field: 'sshPublicKeys' },
    { name: 'userData over 64 KiB', method: 'POST', url, as, payload: { ...vmBody, userData: long(65_537) }, ...V, field: 'userData' },
    { name: 'blank userData', method: 'POST', url, as, payload: { ...vmBody, userData: '' }, ...V, field: 'userData' },
    { name: 'a label value of 256 characters', method: 'POST', url, as, payload: { ...vmBody, labels: { app: long(256) } }, ...V, field: 'labels.app' },
    { name: 'a label key of 64 characters', method: 'POST', url, as, payload: { ...vmBody, labels: { [long(64)]: 'v' } }, ...V, field: `labels.${long(64)}` },
    { name: 'a blank label key', method: 'POST', url, as, payload: { ...vmBody, labels: { ' ': 'v' } }, ...V, field: 'labels. ' },
    { name: 'tenantId with a space', method: 'POST', url, as, payload: { ...vmBody, tenantId: 'ac me' }, ...V, field: 'tenantId' },
    { name: 'unknown field', method: 'POST', url, as, payload: { ...vmBody, gpu: 1 }, ...V, field: 'gpu' },
    { name: 'an operator without tenantId', method: 'POST', url, payload: vmBody, ...V, field: 'tenantId' },
    { name: "another tenant's id, as a tenant", method: 'POST', url, as, payload: { ...vmBody, tenantId: 'globex' }, ...NOT_FOUND },
    { name: 'an unknown tenant', method: 'POST', url, payload: { ...vmBody, tenantId: 'nobody' }, ...NOT_FOUND },
    { name: 'a deleted tenant', method: 'POST', url, payload: { ...vmBody, tenantId: 'gone' }, ...NOT_FOUND },
    { name: 'a suspended tenant', method: 'POST', url, payload: { ...vmBody, tenantId: 'sleepy' }, status: 409, code: 'NC_TENANT_SUSPENDED' },
    { name: 'an unknown region', method: 'POST', url, as, payload: { ...vmBody, regionId: 'nowhere' }, ...NOT_FOUND },
    { name: 'a retired region', method: 'POST', url, as, payload: { ...vmBody, regionId: 'old-west' }, status: 409, code: 'NC_REGION_RETIRED' },
    { name: 'a region the tenant may not use', method: 'POST', url, as, payload: { ...vmBody, regionId: 'ap-south' }, status: 422, code: 'NC_REGION_NOT_ALLOWED' },
    { name: 'a zero quota', method: 'POST', url, payload: { ...vmBody, tenantId: 'tiny' }, status: 422, code: 'NC_QUOTA_EXCEEDED' },
    { name: 'a quota already used up', method: 'POST', url, payload: { ...vmBody, tenantId: 'snug' }, status: 422, code: 'NC_QUOTA_EXCEEDED' },
    { name: 'no node with room', method: 'POST', url, as, payload: { ...vmBody, vcpus: 128 }, status: 422, code: 'NC_CAPACITY_EXHAUSTED', log: 'compensated' },
  ]);
});

describe('POST /v1/vms/:id/:action', () => {
  const as = 'acme-admin';
  cases([
    ...bodyCases('POST', '/v1/vms/{running}/restart', as, { optional: true }),
    { name: 'unknown action', method: 'POST', url: '/v1/vms/{stopped}/reboot', as, ...V, field: 'action' },
    { name: 'pause a stopped VM', method: 'POST', url: '/v1/vms/{stopped}/pause', as, ...WRONG_STATE },
    { name: 'stop a stopped VM', method: 'POST', url: '/v1/vms/{stopped}/stop', as, ...WRONG_STATE },
    { name: 'restart a stopped VM', method: 'POST', url: '/v1/vms/{stopped}/restart', as, ...WRONG_STATE },
    { name: 'resume a stopped VM', method: 'POST', url: '/v1/vms/{stopped}/resume', as, ...WRONG_STATE },
    { name: 'start a running VM', method: 'POST', url: '/v1/vms/{running}/start', as, ...WRONG_STATE },
    { name: 'resume a running VM', method: 'POST', url: '/v1/vms/{running}/resume', as, ...WRONG_STATE },
    { name: 'pause a paused VM', method: 'POST', url: '/v1/vms/{paused}/pause', as, ...WRONG_STATE },
    { name: 'restart a paused VM', method: 'POST', url: '/v1/vms/{paused}/restart', as, ...WRONG_STATE },
    { name: 'start a failed VM', method: 'POST', url: '/v1/vms/{failed}/start', as, ...WRONG_STATE },
    ...(['start', 'stop', 'restart', 'pause', 'resume'] as const).flatMap((action): Case[] => [
      { name: `${action} a deleted VM`, method: 'POST', url: `/v1/vms/{deleted}/${action}`, as, ...WRONG_STATE },
      { name: `${action} an unknown VM`, method: 'POST', url: `/v1/vms/nope/${action}`, as, ...NOT_FOUND },
    ]),
    { name: "start a suspended tenant's VM", method: 'POST', url: '/v1/vms/{sleepyVm}/start', status: 409, code: 'NC_TENANT_SUSPENDED' },
  ]);
});

describe('POST /v1/vms/:id/resize', () => {
  const as = 'acme-admin';
  const url = '/v1/vms/{stopped}/resize';
  cases([
    ...objectBodyCases('POST', url, as),
    { name: 'nothing to resize', method: 'POST', url, as, payload: {}, ...V, field: '' },
    { name: 'zero vcpus', method: 'POST', url, as, payload: { vcpus: 0 }, ...V, field: 'vcpus' },
    { name: 'memory above 1 TiB', method: 'POST', url, as, payload: { memoryMiB: 1_048_577 }, ...V, field: 'memoryMiB' },
    { name: 'disk null', method: 'POST', url, as, payload: { diskGiB: null }, ...V, field: 'diskGiB' },
    { name: 'unknown field', method: 'POST', url, as, payload: { vcpus: 4, image: 'x' }, ...V, field: 'image' },
    { name: 'a shrinking disk', method: 'POST', url, as, payload: { diskGiB: 10 }, ...V, field: 'diskGiB' },
    { name: 'a running VM', method: 'POST', url: '/v1/vms/{running}/resize', as, payload: { vcpus: 4 }, ...WRONG_STATE },
    { name: 'a paused VM', method: 'POST', url: '/v1/vms/{paused}/resize', as, payload: { vcpus: 4 }, ...WRONG_STATE },
    { name: 'a deleted VM', method: 'POST', url: '/v1/vms/{deleted}/resize', as, payload: { vcpus: 4 }, ...WRONG_STATE },
    { name: 'beyond the quota', method: 'POST', url: '/v1/vms/{snugVm}/resize', payload: { vcpus: 4 }, status: 422, code: 'NC_QUOTA_EXCEEDED' },
    { name: 'beyond the node', method: 'POST', url, as, payload: { vcpus: 128 }, status: 422, code: 'NC_CAPACITY_EXHAUSTED', log: 'compensated' },
    { name: 'unknown VM', method: 'POST', url: '/v1/vms/nope/resize', as, payload: { vcpus: 4 }, ...NOT_FOUND },
  ]);
});

describe('POST /v1/vms/:id/migrate', () => {
  const as = 'acme-admin';
  const url = '/v1/vms/{running}/migrate';
  cases([
    ...objectBodyCases('POST', url, as),
    { name: 'missing kind', method: 'POST', url, as, payload: {}, ...V, field: 'kind' },
    { name: 'unknown kind', method: 'POST', url, as, payload: { kind: 'hot' }, ...V, field: 'kind' },
    { name: 'unknown placement', method: 'POST', url, as, payload: { kind: 'live', placement: 'cheapest' }, ...V, field: 'placement' },
    { name: 'unknown field', method: 'POST', url, as, payload: { kind: 'live', now: true }, ...V, field: 'now' },
    { name: 'a target node, as a tenant', method: 'POST', url, as, payload: { kind: 'live', targetNodeId: '{otherNode}' }, status: 403, code: 'NC_FORBIDDEN', field: 'targetNodeId' },
    { name: 'to the node it is on', method: 'POST', url: '/v1/vms/{stopped}/migrate', payload: { kind: 'cold', targetNodeId: '{stoppedNode}' }, ...V, field: 'targetNodeId' },
    { name: 'to an unknown node', method: 'POST', url, payload: { kind: 'live', targetNodeId: 'nope' }, ...NOT_FOUND },
    { name: 'to a failed node', method: 'POST', url, payload: { kind: 'live', targetNodeId: 'euw-doomed' }, ...WRONG_STATE },
    { name: 'to a region the tenant may not use', method: 'POST', url, payload: { kind: 'live', targetNodeId: 'aps-cordoned' }, status: 422, code: 'NC_REGION_NOT_ALLOWED' },
    { name: 'cold, while running', method: 'POST', url, as, payload: { kind: 'cold' }, ...WRONG_STATE },
    { name: 'live, while stopped', method: 'POST', url: '/v1/vms/{stopped}/migrate', as, payload: { kind: 'live' }, ...WRONG_STATE },
    { name: 'warm, while paused', method: 'POST', url: '/v1/vms/{paused}/migrate', as, payload: { kind: 'warm' }, ...WRONG_STATE },
    { name: 'a deleted VM', method: 'POST', url: '/v1/vms/{deleted}/migrate', as, payload: { kind: 'cold' }, ...WRONG_STATE },
    { name: 'a failed VM', method: 'POST', url: '/v1/vms/{failed}/migrate', as, payload: { kind: 'cold' }, ...WRONG_STATE },
    { name: 'unknown VM', method: 'POST', url: '/v1/vms/nope/migrate', as, payload: { kind: 'live' }, ...NOT_FOUND },
  ]);
});

describe('POST /v1/vms/:id/snapshots', () => {
  const as = 'acme-admin';
  const url = '/v1/vms/{stopped}/snapshots';
  cases([
    ...bodyCases('POST', url, as, { optional: true }),
    { name: 'empty name', method: 'POST', url, as, payload: { name: '' }, ...V, field: 'name' },
    { name: 'name a number', method: 'POST', url, as, payload: { name: 1 }, ...V, field: 'name' },
    { name: 'unknown field', method: 'POST', url, as, payload: { name: 's', quiesce: true }, ...V, field: 'quiesce' },
    { name: 'a deleted VM', method: 'POST', url: '/v1/vms/{deleted}/snapshots', as, payload: { name: 's' }, ...WRONG_STATE },
    { name: 'a failed VM', method: 'POST', url: '/v1/vms/{failed}/snapshots', as, payload: { name: 's' }, ...WRONG_STATE },
    { name: 'unknown VM', method: 'POST', url: '/v1/vms/nope/snapshots', as, payload: { name: 's' }, ...NOT_FOUND },
  ]);
});

describe('DELETE /v1/vms/:id', () => {
  cases([
    { name: 'as a tenant-user', method: 'DELETE', url: '/v1/vms/{stopped}', as: 'acme-user', status: 403, code: 'NC_FORBIDDEN' },
    { name: 'deleted twice', method: 'DELETE', url: '/v1/vms/{deleted}', as: 'acme-admin', ...WRONG_STATE },
    { name: 'unknown VM', method: 'DELETE', url: '/v1/vms/nope', as: 'acme-admin', ...NOT_FOUND },
    { name: 'id with a space', method: 'DELETE', url: '/v1/vms/a%20b', as: 'acme-admin', ...V, field: 'id' },
  ]);
});

describe('GET /v1/vms/:id', () => {
  cases([
    { name: 'unknown VM', method: 'GET', url: '/v1/vms/nope', as: 'acme-user', ...NOT_FOUND },
    { name: 'id of 129 characters', method: 'GET', url: `/v1/vms/${long(129)}`, as: 'acme-user', ...V, field: 'id' },
  ]);
});

// ── who may call what ───────────────────────────────────────────────────────

/** Every route, with a request that would succeed for a caller allowed to make it. */
const OPERATOR_ROUTES: Array<Pick<Case, 'method' | 'url' | 'payload'>> = [
  { method: 'POST', url: '/v1/regions', payload: region('r-new') },
  { method: 'PATCH', url: '/v1/regions/eu-west', payload: { name: 'Dublin 2' } },
  { method: 'POST', url: '/v1/regions/eu-west/retire' },
  { method: 'POST', url: '/v1/clusters', payload: { id: 'c-new', regionId: 'eu-west' } },
  { method: 'POST', url: '/v1/clusters/euw-c1/leave' },
  { method: 'POST', url: '/v1/clusters/euw-c1/health', payload: { healthy: false } },
  { method: 'GET', url: '/v1/clusters/euw-c1' },
  { method: 'POST', url: '/v1/nodes', payload: node('n-new', 'eu-west', 'euw-c1') },
  { method: 'PUT', url: '/v1/nodes/euw-n0/capacity', payload: { vcpus: 64, memoryMiB: 262_144, diskGiB: 10_000 } },
  ...(['cordon', 'uncordon', 'drain', 'fail', 'decommission'] as const).map((action) => ({ method: 'POST' as const, url: `/v1/nodes/euw-n0/${action}` })),
  { method: 'GET', url: '/v1/nodes/euw-n0' },
  { method: 'POST', url: '/v1/tenants', payload: tenant('t-new') },
  { method: 'PUT', url: '/v1/tenants/acme/quota', payload: quota },
  { method: 'POST', url: '/v1/tenants/acme/suspend' },
  { method: 'POST', url: '/v1/tenants/acme/reactivate' },
  { method: 'DELETE', url: '/v1/tenants/acme' },
  { method: 'GET', url: '/v1/admin/processors' },
];

/** acme's stopped VM through every VM route. */
const VM_ROUTES: Array<Pick<Case, 'method' | 'url' | 'payload'>> = [
  { method: 'GET', url: '/v1/vms/{stopped}' },
  ...(['start', 'stop', 'restart', 'pause', 'resume'] as const).map((action) => ({ method: 'POST' as const, url: `/v1/vms/{stopped}/${action}` })),
  { method: 'POST', url: '/v1/vms/{stopped}/resize', payload: { vcpus: 4 } },
  { method: 'POST', url: '/v1/vms/{stopped}/migrate', payload: { kind: 'cold' } },
  { method: 'POST', url: '/v1/vms/{stopped}/snapshots', payload: { name: 's' } },
  { method: 'DELETE', url: '/v1/vms/{stopped}' },
];

const ALL_ROUTES = [
  ...OPERATOR_ROUTES,
  { method: 'GET' as const, url: '/v1/regions/eu-west' },
  { method: 'GET' as const, url: '/v1/tenants/acme' },
  { method: 'POST' as const, url: '/v1/vms', payload: vmBody },
  ...VM_ROUTES,
];

describe('tenant principals on operator routes', () => {
  cases(
    OPERATOR_ROUTES.flatMap((route): Case[] =>
      (['acme-admin', 'acme-user'] as const).map((as) => ({ name: `${as}: ${route.method} ${route.url}`, ...route, as, status: 403, code: 'NC_FORBIDDEN' })),
    ),
  );
});

describe("another tenant's token on acme's VM", () => {
  cases(VM_ROUTES.map((route): Case => ({ name: `globex-admin: ${route.method} ${route.url}`, ...route, as: 'globex-admin', ...NOT_FOUND })));
  cases([{ name: 'acme-admin: GET on a globex VM', method: 'GET', url: '/v1/vms/{globexVm}', as: 'acme-admin', ...NOT_FOUND }]);
});

describe('no credentials', () => {
  cases(ALL_ROUTES.map((route): Case => ({ name: `${route.method} ${route.url}`, ...route, as: 'anonymous', status: 401, code: 'NC_UNAUTHENTICATED' })));
});

describe('a body that may be left out', () => {
  // Fastify validates a missing body as null: these routes must still take none.
  let g: FleetApp;
  beforeAll(async () => {
    g = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
    await seedApi(g, { nodes: 1 });
  });
  afterAll(async () => g?.close());

  it('POST /v1/nodes/:id/cordon, /v1/tenants/:id/suspend and /v1/vms/:id/snapshots answer without one', async () => {
    const vm = (await g.setup('POST', '/v1/vms', { ...vmBody, tenantId: 'acme' })).id as string;
    for (const [url, status] of [
      ['/v1/nodes/euw-n0/cordon', 200],
      [`/v1/vms/${vm}/snapshots`, 201],
      ['/v1/tenants/acme/suspend', 200],
    ] as const) {
      const response = await g.app.inject({ method: 'POST', url, headers: g.operator });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(status);
    }
  });
});
