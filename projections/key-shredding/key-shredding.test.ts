// Crypto-shredding that always completes: the data key of a deleted tenant is destroyed
// from the log (TenantDeleted) by the key-shredding processor, even when destroying it
// fails at first and the process restarts in between; a key destroyed in one process
// is unusable at once in another that had it cached.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp, type App } from '../../api/app.ts';
import { loadJwtSecret } from '../../api/auth/jwt-secret.ts';
import { signToken } from '../../api/auth/tokens.ts';
import { loadConfig } from '../../api/config.ts';
import { openPlatform, type Platform } from '../../api/platform.ts';
import { wireApi } from '../../api/wiring.ts';
import { createKeyStore } from '../../streams/crypto/index.ts';
import { waitUntil } from '../../streams/processing/wait-until.ts';
import { KEY_SHREDDING } from './index.ts';

const dirs: string[] = [];
const running: Array<{ app: App; platform: Platform }> = [];
afterEach(async () => {
  for (const { app, platform } of running.splice(0)) {
    await app.close().catch(() => undefined);
    await platform.close().catch(() => undefined);
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string) {
  const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
  const platform = openPlatform(config);
  const wiring = wireApi(platform);
  const app = buildApp({ platform, config, logger: false, tenantExists: wiring.tenantExists, extraPlugins: wiring.plugins });
  await app.ready();
  running.push({ app, platform });
  const operator = { authorization: `Bearer ${signToken(loadJwtSecret({ value: config.jwtSecret, dataDir }), { subject: 'op', role: 'operator', ttlSeconds: 600 })}` };
  const shredder = async () => (await platform.projections.status()).find((s) => s.name === KEY_SHREDDING);
  const stop = async () => {
    running.splice(running.findIndex((r) => r.app === app), 1);
    await app.close();
    await platform.close();
  };
  return { app, platform, operator, shredder, stop };
}

describe('crypto-shredding driven from the log', () => {
  it('destroys the key of a deleted tenant although destroying fails at first and the process restarts meanwhile', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'novacron-shred-'));
    dirs.push(dataDir);
    const first = await start(dataDir);
    await first.app.inject({ method: 'POST', url: '/v1/regions', headers: first.operator, payload: { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.02 } });
    const created = await first.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: first.operator,
      payload: { id: 'acme', name: 'Acme', contactEmail: 'ops@acme.example', quota: { vms: 1, vcpus: 1, memoryMiB: 1024, diskGiB: 10 }, allowedRegions: ['eu-west'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(first.platform.keys.getDataKey('acme')).not.toBeNull();

    // The key store refuses to destroy anything in this process (a disk error, say).
    const keys = first.platform.keys;
    const attempts: string[] = [];
    keys.destroyDataKey = (tenantId: string) => {
      attempts.push(tenantId);
      throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    };
    const deleted = await first.app.inject({ method: 'DELETE', url: '/v1/tenants/acme', headers: first.operator });
    expect(deleted.statusCode, deleted.body).toBe(200);
    // Recorded, not yet shredded: the processor keeps trying and says why.
    expect(await waitUntil(() => attempts.length >= 3, { timeoutMs: 20_000 })).toBe(true);
    const failing = await first.shredder();
    expect(failing).toMatchObject({ name: KEY_SHREDDING, parked: 0, lag: expect.any(Number) });
    expect(failing!.lag).toBeGreaterThan(0);
    expect(failing!.error).toMatch(/NC_KEY_SHREDDING_FAILED|could not destroy the data key of deleted tenant acme/);
    expect(first.platform.keys.isDestroyed('acme')).toBe(false);
    await first.stop();

    // After a restart, with a key store that works, the processor resumes from its checkpoint and finishes.
    const second = await start(dataDir);
    await vi.waitFor(async () => {
      expect(second.platform.keys.isDestroyed('acme')).toBe(true);
      expect((await second.shredder())?.lag).toBe(0);
    }, { timeout: 20_000, interval: 25 });
    expect(await second.shredder()).toMatchObject({ state: 'running', error: null, failures: 0, parked: 0, lag: 0 });
    expect(second.platform.keys.getDataKey('acme')).toBeNull();
  }, 60_000);

  it('a key destroyed through one key store handle is unusable at once through another that has it cached', () => {
    const dir = mkdtempSync(join(tmpdir(), 'novacron-keys-'));
    dirs.push(dir);
    const masterKey = randomBytes(32);
    const here = createKeyStore({ path: join(dir, 'keys.db'), masterKey });
    const there = createKeyStore({ path: join(dir, 'keys.db'), masterKey });
    try {
      const key = here.getOrCreateDataKey('acme');
      expect(there.getDataKey('acme')).toEqual(key); // now cached there
      expect(there.isDestroyed('acme')).toBe(false);
      here.destroyDataKey('acme');
      expect(there.getDataKey('acme')).toBeNull();
      expect(there.isDestroyed('acme')).toBe(true);
      expect(there.getOrCreateDataKey('acme')).toBeNull(); // the tombstone blocks recreation
    } finally {
      here.close();
      there.close();
    }
  });
});
