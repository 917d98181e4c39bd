/**
 * Input that used to reach a 500, hang, or be accepted altered (issue 11 item 7,
 * issue 12 item 5): each case is answered with a clear 4xx and an NC_* code,
 * or accepted as curl users send it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
let vm: string;

beforeAll(async () => {
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000', NOVACRON_FORECAST_INTERVAL_MS: '86400000' });
  await seedApi(f, { nodes: 1 });
  vm = (await f.setup('POST', '/v1/vms', { name: 'w', vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12', tenantId: 'acme' })).id as string;
});
afterAll(() => f.close());

const head = async () => (await f.platform.store.headPosition());
const region = (id: string, extra: object = {}) => JSON.stringify({ id, name: 'x', lat: 1, lon: 1, complianceZone: 'eu', costPerVcpuHour: 0.1, ...extra });

describe('JSON bodies', () => {
  const deepArray = '['.repeat(50_000) + ']'.repeat(50_000);
  const deepObject = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);

  it('nested 50k deep with an Idempotency-Key → 400 NC_JSON_TOO_DEEP on bodyless and body routes, nothing recorded', async () => {
    const before = await head();
    const urls: Array<['POST' | 'DELETE', string]> = [
      ['DELETE', `/v1/vms/${vm}`], ['POST', `/v1/vms/${vm}/stop`], ['POST', '/v1/regions/eu-west/retire'], ['POST', '/v1/clusters/euw-c1/leave'],
      ['DELETE', '/v1/tenants/globex'], ['POST', '/v1/regions'],
    ];
    for (const [i, [method, url]] of urls.entries()) {
      for (const payload of [deepArray, deepObject]) {
        const res = await f.app.inject({ method, url, headers: { ...f.operator, 'idempotency-key': `deep-${i}-${payload.length}-${payload[0]}`, 'content-type': 'application/json' }, payload });
        expect({ url, status: res.statusCode, code: res.json().error.code }).toEqual({ url, status: 400, code: 'NC_JSON_TOO_DEEP' });
      }
    }
    expect(await head()).toBe(before);
  });

  it('32 levels are fine (the limit), 33 are not', async () => {
    const nest = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const ok = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: nest(32) });
    expect(ok.json().error.code).toBe('NC_VALIDATION'); // parsed, then refused by the schema
    const deep = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: nest(33) });
    expect(deep.json().error.code).toBe('NC_JSON_TOO_DEEP');
  });

  it('charset other than UTF-8, or a byte-order mark, is refused', async () => {
    const utf16 = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json; charset=utf-16' }, payload: region('r-utf16') });
    expect([utf16.statusCode, utf16.json().error.code]).toEqual([415, 'NC_UNSUPPORTED_MEDIA_TYPE']);
    const latin1 = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json;charset="ISO-8859-1"' }, payload: region('r-latin') });
    expect(latin1.statusCode).toBe(415);
    const bom = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(region('r-bom'))]) });
    expect([bom.statusCode, bom.json().error.code]).toEqual([400, 'NC_MALFORMED_JSON']);
    const bom16 = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(region('r-bom16'), 'utf16le')]) });
    expect(bom16.statusCode).toBe(415);
    const utf8 = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json; charset=UTF-8' }, payload: region('r-utf8') });
    expect(utf8.statusCode).toBe(201);
    expect((await f.app.inject({ method: 'GET', url: '/v1/regions/r-utf16', headers: f.operator })).statusCode).toBe(404);
  });

  it('a lone UTF-16 surrogate in a string is refused (400 NC_VALIDATION naming the field); a pair is kept as sent', async () => {
    const lone = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: region('r-lone').replace('"name":"x"', '"name":"x\\ud800y"') });
    expect([lone.statusCode, lone.json().error.code, lone.json().error.details.field]).toEqual([400, 'NC_VALIDATION', 'name']);
    const low = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: region('r-low').replace('"name":"x"', '"name":"\\udc00"') });
    expect(low.statusCode).toBe(400);
    const pair = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: region('r-pair').replace('"name":"x"', '"name":"x\\ud83d\\ude00y"') });
    expect(pair.statusCode).toBe(201);
    expect(pair.json().region.name).toBe('x😀y');
  });

  it('DELETE bodies are validated: none or {} is fine, anything else 400', async () => {
    const junk = await f.app.inject({ method: 'DELETE', url: '/v1/tenants/nobody', headers: f.operator, payload: { force: true } });
    expect([junk.statusCode, junk.json().error.code]).toEqual([400, 'NC_VALIDATION']);
    const key = await f.app.inject({ method: 'DELETE', url: '/v1/api-keys/ak_nope', headers: f.operator, payload: [1] });
    expect(key.statusCode).toBe(400);
    const empty = await f.app.inject({ method: 'DELETE', url: '/v1/tenants/nobody', headers: f.operator, payload: {} });
    expect(empty.json().error.code).toBe('NC_NOT_FOUND');
  });
});

describe('action POSTs as curl sends them (issue 12 item 5)', () => {
  it('Content-Type: application/json with no body, {} with no or a form Content-Type are accepted', async () => {
    const start = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm}/start`, headers: { ...f.operator, 'content-type': 'application/json' } });
    expect(start.statusCode).toBe(200);
    const stop = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm}/stop`, headers: { ...f.operator, 'content-type': 'application/x-www-form-urlencoded' }, payload: '{}' });
    expect(stop.statusCode).toBe(200);
    const startAgain = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm}/start`, headers: f.operator, payload: Buffer.from('{ }') });
    expect(startAgain.statusCode).toBe(200);
    const other = await f.app.inject({ method: 'POST', url: `/v1/vms/${vm}/stop`, headers: { ...f.operator, 'content-type': 'text/plain' }, payload: 'stop please' });
    expect([other.statusCode, other.json().error.code]).toEqual([415, 'NC_UNSUPPORTED_MEDIA_TYPE']);
  });
});

describe('query strings', () => {
  it.each(['1.5', 'true', '1e1', '0x10', ' 5', '5 '])('limit=%s → 400 NC_VALIDATION', async (limit) => {
    const res = await f.app.inject({ method: 'GET', url: `/v1/vms?limit=${encodeURIComponent(limit)}`, headers: f.operator });
    expect([res.statusCode, res.json().error.code, res.json().error.details.field]).toEqual([400, 'NC_VALIDATION', 'limit']);
  });
  it('limit=5 is fine', async () => {
    expect((await f.app.inject({ method: 'GET', url: '/v1/vms?limit=5', headers: f.operator })).statusCode).toBe(200);
  });
});

describe('ops and feed', () => {
  it('/readyz tells anonymous callers nothing of the log', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });
  it('HEAD /v1/events answers at once with the feed headers and no body', async () => {
    const res = await f.app.inject({ method: 'HEAD', url: '/v1/events', headers: f.tenant('acme') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.body).toBe('');
    const anonymous = await f.app.inject({ method: 'HEAD', url: '/v1/events' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('shard counts', () => {
  it('a region takes at most 1000 shards (a ring of 10,000 stalled the server for seconds); 1000 answers within 5 s and /healthz with it', async () => {
    const over = await f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: region('r-huge', { shards: 1001 }) });
    expect([over.statusCode, over.json().error.code, over.json().error.details.field]).toEqual([400, 'NC_VALIDATION', 'shards']);
    const patch = await f.app.inject({ method: 'PATCH', url: '/v1/regions/eu-west', headers: f.operator, payload: { shards: 10_000 } });
    expect(patch.statusCode).toBe(400);
    const started = Date.now();
    const [max, health] = await Promise.all([
      f.app.inject({ method: 'POST', url: '/v1/regions', headers: { ...f.operator, 'content-type': 'application/json' }, payload: region('r-max', { shards: 1000 }) }),
      f.app.inject({ method: 'GET', url: '/healthz' }),
    ]);
    expect([max.statusCode, health.statusCode]).toEqual([201, 200]);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
