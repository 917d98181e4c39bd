import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCliServer, type CliServer } from './testing/cli-server.ts';
import { embeddedChildEnv } from './testing/child-env.ts';

const bin = fileURLToPath(new URL('../bin/novacron.mjs', import.meta.url));
let dataDir: string;
let server: CliServer | undefined;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'novacron-keys-cli-'));
});
afterEach(async () => {
  await server?.kill();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal', ...extra });
const novacron = (args: string[], extra: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], { env: embeddedChildEnv(env(extra)), encoding: 'utf8', timeout: 60_000 });

async function call(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The SSE feed from the start until `text` shows up (a tenant reads its own personal fields decrypted). */
async function feedUntil(url: string, token: string, text: string): Promise<string> {
  const abort = new AbortController();
  // The feed stays open: give up after a while and let the assertion show what came.
  const giveUp = setTimeout(() => abort.abort(), 10_000);
  const res = await fetch(`${url}/v1/events?from=0`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  expect(res.status).toBe(200);
  const decoder = new TextDecoder();
  let seen = '';
  try {
    for await (const chunk of res.body!) {
      seen += decoder.decode(chunk as Uint8Array, { stream: true });
      if (seen.includes(text)) break;
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(giveUp);
    abort.abort();
  }
  return seen;
}

const tenantToken = (id: string, extra: Record<string, string> = {}) => novacron(['token', '--role', 'tenant-admin', '--tenant', id], extra).stdout.trim();

const tenant = (id: string, contactEmail: string) => ({
  id,
  name: id,
  contactEmail,
  quota: { vms: 1, vcpus: 1, memoryMiB: 1024, diskGiB: 10 },
  allowedRegions: ['eu-west'],
});

describe('novacron keys', () => {
  it('rotate-master rewraps every data key under a new master.key while the server keeps running, and the server goes on reading and writing personal data', async () => {
    server = await startCliServer(env({ NOVACRON_PORT: '0' }));
    const operator = novacron(['token', '--role', 'operator']).stdout.trim();
    expect((await call(server.url, operator, 'POST', '/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02 })).status).toBe(201);
    expect((await call(server.url, operator, 'POST', '/v1/tenants', tenant('acme', 'ops@acme.example'))).status).toBe(201);
    const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8');

    const rotated = novacron(['keys', 'rotate-master']);
    expect(rotated.stderr).toBe('');
    expect(rotated.status).toBe(0);
    expect(rotated.stdout).toMatch(/^rewrapped 1 data key version\(s\) under a new master key [0-9a-f]{16} in .*master\.key; the old key [0-9a-f]{16} is gone from the file\n$/);
    const newKey = readFileSync(join(dataDir, 'master.key'), 'utf8');
    expect(newKey).toMatch(/^[0-9a-f]{64}\n$/);
    expect(newKey).not.toBe(oldKey);

    // The running server, which started with the old key, reads acme's personal data and wraps a new tenant's key.
    expect(await feedUntil(server.url, tenantToken('acme'), 'ops@acme.example')).toContain('ops@acme.example');
    expect((await call(server.url, operator, 'POST', '/v1/tenants', tenant('globex', 'ops@globex.example'))).status).toBe(201);
    expect(await feedUntil(server.url, tenantToken('globex'), 'ops@globex.example')).toContain('ops@globex.example');

    const status = novacron(['keys', 'status']);
    expect(status.status).toBe(0);
    const current = /current master key\s+([0-9a-f]{16})/.exec(status.stdout)?.[1];
    expect(status.stdout).toContain(`data keys under ${current}  2`);
    expect(status.stdout).not.toMatch(/rotate-master` to rewrap/);
  }, 60_000);

  it('rotate-master with NOVACRON_MASTER_KEY moves the rows from NOVACRON_MASTER_KEY_PREVIOUS to it; rotate-tenant adds a version', async () => {
    const oldKey = 'a1'.repeat(32);
    const newKey = 'b2'.repeat(32);
    server = await startCliServer(env({ NOVACRON_PORT: '0', NOVACRON_MASTER_KEY: oldKey }));
    // Like every command on the data dir, `token` runs with the server's settings (it records the issue in the audit trail).
    const operator = novacron(['token', '--role', 'operator'], { NOVACRON_MASTER_KEY: oldKey }).stdout.trim();
    await call(server.url, operator, 'POST', '/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02 });
    expect((await call(server.url, operator, 'POST', '/v1/tenants', tenant('acme', 'ops@acme.example'))).status).toBe(201);
    await server.kill();

    // The new key alone does not open a store wrapped under the old one.
    const refused = novacron(['keys', 'status'], { NOVACRON_MASTER_KEY: newKey });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/NC_MASTER_KEY_MISMATCH: .*NOVACRON_MASTER_KEY_PREVIOUS/);
    expect(refused.stderr).not.toContain(newKey);

    const rotated = novacron(['keys', 'rotate-master'], { NOVACRON_MASTER_KEY: newKey, NOVACRON_MASTER_KEY_PREVIOUS: oldKey });
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/rewrapped 1 data key version\(s\) under master key [0-9a-f]{16} \(NOVACRON_MASTER_KEY\)\nno data key needs NOVACRON_MASTER_KEY_PREVIOUS any more/);
    expect(rotated.stdout + rotated.stderr).not.toContain(oldKey);

    expect(novacron(['keys', 'rotate-tenant', 'acme'], { NOVACRON_MASTER_KEY: newKey }).stdout).toMatch(/tenant acme: data key version 2 is current/);
    expect(novacron(['keys', 'rotate-tenant', 'no such/tenant'], { NOVACRON_MASTER_KEY: newKey }).status).toBe(2);

    // The new key alone serves the old data, and the new version encrypts the new.
    server = await startCliServer(env({ NOVACRON_PORT: '0', NOVACRON_MASTER_KEY: newKey }));
    const acme = tenantToken('acme', { NOVACRON_MASTER_KEY: newKey });
    expect(await feedUntil(server.url, acme, 'ops@acme.example')).toContain('ops@acme.example');
    const node = { id: 'n1', regionId: 'eu-west', clusterId: 'c1', vcpus: 8, memoryMiB: 16384, diskGiB: 100, overcommit: 1 };
    expect((await call(server.url, operator, 'POST', '/v1/clusters', { id: 'c1', regionId: 'eu-west' })).status).toBe(201);
    expect((await call(server.url, operator, 'POST', '/v1/nodes', node)).status).toBe(201);
    const vm = { name: 'web', vcpus: 1, memoryMiB: 1024, diskGiB: 10, image: 'debian-12', userData: '#cloud-config secret-ish' };
    expect((await call(server.url, acme, 'POST', '/v1/vms', vm)).status).toBe(201);
    expect(await feedUntil(server.url, acme, '#cloud-config secret-ish')).toContain('#cloud-config secret-ish');

    // Every command-line action above is in the audit trail, as the OS user from cli@<host>; the tenant sees its own, without the operator's name.
    const fleetTrail = (await call(server.url, operator, 'GET', '/v1/audit?limit=500')).body.items as Array<{ action: string; actor: string; source: string; tenantId: string | null }>;
    expect(fleetTrail.map((i) => i.action)).toEqual(expect.arrayContaining(['master_key.rotated', 'tenant_key.rotated', 'token.issued']));
    expect(fleetTrail.every((i) => i.actor.startsWith('operator:') && i.source.startsWith('cli@'))).toBe(true);
    const acmeTrail = (await call(server.url, acme, 'GET', '/v1/tenants/acme/audit')).body.items as Array<{ action: string; actor: string; source: string | null; details: string }>;
    expect(acmeTrail.find((i) => i.action === 'tenant_key.rotated')).toMatchObject({ actor: 'operator', source: null, details: 'data key version 2' });
    expect(acmeTrail.map((i) => i.action)).toContain('token.issued');
    await server.kill();
    const log = new Database(join(dataDir, 'events.db'), { readonly: true });
    try {
      const stored = log.prepare<[], { type: string; data: string }>("SELECT type, data FROM events WHERE type IN ('TenantCreated', 'VmCreated') ORDER BY position").all();
      expect(stored.map((e) => [e.type, JSON.parse(e.data).contactEmail ?? JSON.parse(e.data).userData])).toEqual([
        ['TenantCreated', expect.stringMatching(/^ncpii:v1:/)],
        ['VmCreated', expect.stringMatching(/^ncpii:v2:2:/)],
      ]);
    } finally {
      log.close();
    }
  }, 60_000);
});
