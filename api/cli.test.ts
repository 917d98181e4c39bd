import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVerifier } from 'fast-jwt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { openPlatform } from './platform.ts';
import { embeddedChildEnv } from './testing/child-env.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'novacron.mjs');

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'novacron-cli-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function novacron(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: embeddedChildEnv({ NOVACRON_DATA_DIR: dataDir, ...env }),
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('novacron token', () => {
  it('records each token issued in the audit trail (subject, role, lifetime, from cli@<host>), never the token', async () => {
    const run = novacron(['token', '--role', 'tenant-admin', '--tenant', 'acme', '--sub', 'bob', '--ttl', '15m']);
    expect(run.status, run.stderr).toBe(0);
    const platform = openPlatform(loadConfig({ NOVACRON_DATA_DIR: dataDir }));
    try {
      const trail = await platform.store.readStream('audit-acme');
      expect(trail).toHaveLength(1);
      expect(trail[0]).toMatchObject({ type: 'AuditRecorded', data: { action: 'token.issued', tenantId: 'acme', target: 'bob', details: 'role tenant-admin, ttl 900 s' } });
      expect(trail[0]!.data.source).toMatch(/^cli@/);
      expect(JSON.stringify(trail)).not.toContain(run.stdout.trim());
    } finally {
      await platform.close();
    }
  });

  it('prints an operator JWT alone on stdout, signed with <dataDir>/jwt.secret', () => {
    const run = novacron(['token', '--role', 'operator', '--sub', 'alice', '--ttl', '2h']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const secretFile = join(dataDir, 'jwt.secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const claims = createVerifier({ key: readFileSync(secretFile, 'utf8').trim(), algorithms: ['HS256'] })(run.stdout.trim());
    expect(claims).toMatchObject({ sub: 'alice', role: 'operator' });
    expect(claims.tenantId).toBeUndefined();
    expect(claims.exp - claims.iat).toBe(7200);
  });

  it('prints a tenant-admin JWT carrying the tenant, which the server accepts', async () => {
    const run = novacron(['token', '--role', 'tenant-admin', '--tenant', 'acme']);
    expect(run.status).toBe(0);
    const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal' });
    const platform = openPlatform(config);
    const app = buildApp({ platform, config, tenantExists: async () => true, logger: false });
    try {
      // A tenant admin may not create API keys: 403 proves the token was accepted as tenant-admin.
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tenants/acme/api-keys',
        headers: { authorization: `Bearer ${run.stdout.trim()}` },
        payload: { role: 'tenant-user' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.details.role).toBe('tenant-admin');
    } finally {
      await app.close();
      await platform.close();
    }
  });

  it('signs with NOVACRON_JWT_SECRET when it is set', () => {
    const secret = 'k'.repeat(48);
    const run = novacron(['token', '--role', 'operator'], { NOVACRON_JWT_SECRET: secret });
    expect(run.status).toBe(0);
    expect(createVerifier({ key: secret })(run.stdout.trim())).toMatchObject({ role: 'operator' });
  });

  it.each([
    [['token']],
    [['token', '--role', 'root']],
    [['token', '--role', 'tenant-user']],
    [['token', '--role', 'operator', '--tenant', 'acme']],
    [['token', '--role', 'operator', '--ttl', 'forever']],
    [['token', '--role', 'operator', '--bogus']],
    [['frobnicate']],
  ])('exits 2 with a message on stderr for bad usage: %j', (args) => {
    const run = novacron(args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^novacron: /);
  });
});
