/**
 * Tenant isolation (issue 11, "Must show"): every route that takes a tenant's
 * resource, called with tenant B's credentials on tenant A's resources (ids,
 * stream ids and positions in X-NovaCron-After, list filters), answers exactly
 * as for a resource that never existed: same status, same code, same body
 * shape (the keys of the answer and of its details). The routes are walked
 * from the published OpenAPI document, so a new route is walked too.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
let acmeVm: string;
let globexVm: string;
let acmePosition: number;

beforeAll(async () => {
  f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000', NOVACRON_FORECAST_INTERVAL_MS: '86400000', NOVACRON_SESSION_WAIT_MS: '50' });
  await seedApi(f, { nodes: 1 });
  const vm = { name: 'w', vcpus: 1, memoryMiB: 512, diskGiB: 10, image: 'debian-12' };
  const created = await f.setup('POST', '/v1/vms', { ...vm, tenantId: 'acme', start: true });
  acmeVm = created.id as string;
  acmePosition = created.position as number;
  globexVm = (await f.setup('POST', '/v1/vms', { ...vm, tenantId: 'globex' })).id as string;
});
afterAll(() => f.close());

/** What the comparison looks at: status, code and the shape (keys) of the answer. */
function shape(res: { statusCode: number; body: string }): unknown {
  const body = res.body === '' ? null : (JSON.parse(res.body) as Record<string, unknown>);
  const error = body?.error as { code?: string; details?: Record<string, unknown> } | undefined;
  return {
    status: res.statusCode,
    code: error?.code ?? null,
    keys: body === null ? [] : Object.keys(body).sort(),
    detailKeys: Object.keys(error?.details ?? {}).sort(),
  };
}

const BODIES: Record<string, unknown> = {
  resize: { vcpus: 2, memoryMiB: 1024 },
  migrate: { kind: 'cold' },
  snapshots: { name: 'snap' },
  'api-keys': { name: 'k', role: 'tenant-user' },
  quota: { vms: 5, vcpus: 10, memoryMiB: 10_000, diskGiB: 100 },
};

interface Walk { method: string; template: string; mine: string; never: string; body?: unknown }

async function walks(): Promise<Walk[]> {
  const spec = (await f.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string; schema: { enum?: string[]; anyOf?: Array<{ const?: string; enum?: string[] }> } }> }>>;
  };
  const out: Walk[] = [];
  for (const [template, methods] of Object.entries(spec.paths)) {
    const kind = template.startsWith('/v1/vms/{id}') ? 'vm' : template.startsWith('/v1/tenants/{id}') ? 'tenant' : null;
    if (kind === null) continue;
    for (const [method, op] of Object.entries(methods)) {
      const action = op.parameters?.find((p) => p.in === 'path' && p.name === 'action');
      const actions = action === undefined ? [null] : (action.schema.enum ?? action.schema.anyOf?.flatMap((a) => a.enum ?? (a.const === undefined ? [] : [a.const])) ?? []);
      expect(actions.length).toBeGreaterThan(0);
      for (const name of actions) {
        const path = name === null ? template : template.replace('{action}', name);
        const last = path.split('/').at(-1) as string;
        const body = method === 'get' || method === 'delete' ? undefined : (BODIES[last] ?? {});
        const mine = path.replace('{id}', kind === 'vm' ? acmeVm : 'acme');
        const never = path.replace('{id}', kind === 'vm' ? randomUUID() : 'never-was');
        out.push({ method: method.toUpperCase(), template: path, mine, never, ...(body === undefined ? {} : { body }) });
      }
    }
  }
  return out;
}

describe("tenant B's credentials on tenant A's resources", () => {
  it('every VM and tenant route answers as for a resource that never existed', async () => {
    const all = await walks();
    expect(all.length).toBeGreaterThan(15);
    const before = await f.platform.store.headPosition();
    for (const role of ['tenant-admin', 'tenant-user'] as const) {
      const globex = f.tenant('globex', role);
      for (const walk of all) {
        const call = (url: string) => f.app.inject({ method: walk.method as 'GET', url, headers: globex, ...(walk.body === undefined ? {} : { payload: walk.body as object }) });
        const foreign = shape(await call(walk.mine));
        const never = shape(await call(walk.never));
        expect({ route: `${role} ${walk.method} ${walk.template}`, ...(foreign as object) }).toEqual({ route: `${role} ${walk.method} ${walk.template}`, ...(never as object) });
      }
    }
    // Nothing of acme's changed.
    expect(await f.platform.store.headPosition()).toBe(before);
    const vm = await f.app.inject({ method: 'GET', url: `/v1/vms/${acmeVm}`, headers: f.tenant('acme') });
    expect(vm.json().state).toBe('running');
  });

  it('list filters: acme as the tenantId of a list answers as a tenant that never existed', async () => {
    const globex = f.tenant('globex');
    for (const url of ['/v1/vms?tenantId=', '/v1/tenants?id=']) {
      const foreign = await f.app.inject({ method: 'GET', url: `${url}acme`, headers: globex });
      const never = await f.app.inject({ method: 'GET', url: `${url}never-was`, headers: globex });
      expect(shape(foreign)).toEqual(shape(never));
      expect(foreign.body).not.toContain(acmeVm);
    }
  });

  it('X-NovaCron-After with acme\'s stream id answers as a stream that never existed, on every consistency', async () => {
    const globex = f.tenant('globex');
    for (const consistency of ['', '?consistency=session']) {
      const url = `/v1/vms/${globexVm}${consistency}`;
      const foreign = await f.app.inject({ method: 'GET', url, headers: { ...globex, 'x-novacron-after': `vm-${acmeVm}@0` } });
      const never = await f.app.inject({ method: 'GET', url, headers: { ...globex, 'x-novacron-after': `vm-${randomUUID()}@0` } });
      expect(shape(foreign)).toEqual(shape(never));
      expect(foreign.statusCode).toBe(400);
      // Its own stream works.
      const own = await f.app.inject({ method: 'GET', url, headers: { ...globex, 'x-novacron-after': `vm-${globexVm}@0` } });
      expect(own.statusCode).toBe(200);
    }
    // acme itself may name it.
    const acme = await f.app.inject({ method: 'GET', url: `/v1/vms/${acmeVm}`, headers: { ...f.tenant('acme'), 'x-novacron-after': `vm-${acmeVm}@0` } });
    expect(acme.statusCode).toBe(200);
    expect(acmePosition).toBeGreaterThan(0);
  });
});
