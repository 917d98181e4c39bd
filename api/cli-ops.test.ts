import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { openPlatform } from './platform.ts';
import { startCliServer } from './testing/cli-server.ts';
import { embeddedChildEnv } from './testing/child-env.ts';

const bin = fileURLToPath(new URL('../bin/novacron.mjs', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'novacron-cli-ops-'));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { env: embeddedChildEnv({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal' }), encoding: 'utf8', timeout: 60_000 });

beforeAll(async () => {
  // A log and a built inventory generation 1, as a server would have left them.
  const platform = openPlatform(loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal' }));
  await platform.store.append('region-eu-west', [
    { type: 'RegionAdded', data: { regionId: 'eu-west', name: 'Dublin', lat: 53.3, lon: -6.2, complianceZone: 'eu', costPerVcpuHour: 0.02, shards: 100 } },
  ]);
  for (let i = 0; i < 30; i++) {
    await platform.store.append(`cluster-c${i}`, [{ type: 'ClusterJoined', data: { clusterId: `c${i}`, regionId: 'eu-west' } }]);
  }
  await platform.projections.start();
  for (const name of platform.projections.names) expect(await platform.projections.waitFor(name, 31, 10_000)).toBe(true);
  await platform.close();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('novacron status and replay', () => {
  it('status lists every processor with its checkpoint, lag and parked events', () => {
    const result = run('status');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^processor\s+generation\s+checkpoint\s+head\s+lag\s+parked\s+state$/);
    expect(lines.find((l) => l.startsWith('inventory '))).toMatch(/^inventory\s+g1 \(v\d+\)\s+31\s+31\s+0\s+0\s+/);
  });

  it('replay rebuilds a projection into a new generation, with plain progress lines off a terminal, and records itself in the audit trail', async () => {
    const result = run('replay', 'inventory');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/replay inventory: 31\/31 events, \d+ events\/s, ETA 0s/);
    expect(result.stdout).toMatch(/replay inventory: generation 2 is active \(31 events in/);
    const files = readdirSync(join(dataDir, 'projections')).filter((f) => f.startsWith('inventory.'));
    expect(files.some((f) => f.startsWith('inventory.g2.db'))).toBe(true);
    expect(files.some((f) => f.startsWith('inventory.g1.db'))).toBe(false);
    // The replay is recorded in the audit trail (fleetaudit-log): the log now holds one more event, which no projection has read yet.
    expect(run('status').stdout).toMatch(/inventory\s+g2 \(v\d+\)\s+31\s+32\s+1/);
    const platform = openPlatform(loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal' }));
    try {
      const [audit] = await platform.store.readStream('fleetaudit-log');
      expect(audit).toMatchObject({ type: 'AuditRecorded', data: { action: 'projection.replayed', tenantId: null, target: 'inventory', details: 'generation 2, 31 events' } });
      expect(audit?.metadata.actor).toMatch(/^operator:/);
    } finally {
      await platform.close();
    }
  });

  it('replay names the projections when given an unknown one', () => {
    const result = run('replay', 'nope');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/name one of: .*inventory/);
  });

  it('status shows the processors of a server running on the same data dir as running, with its PID', async () => {
    const server = await startCliServer({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_PORT: '0' });
    try {
      // The server reads the replay's audit event (position 32) first: ask until its processors report it.
      const pattern = new RegExp(`inventory\\s+g\\d+ \\(v\\d+\\)\\s+32\\s+32\\s+0\\s+0\\s+running \\(pid ${server.child.pid}\\)`);
      let result = run('status');
      for (const deadline = Date.now() + 30_000; !pattern.test(result.stdout) && Date.now() < deadline; ) result = run('status');
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(/not running here/);
      expect(result.stdout).toMatch(pattern);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    // Once it has stopped, its announcement is gone: the files speak again.
    expect(run('status').stdout).toMatch(/inventory\s+g\d+ \(v\d+\)\s+32\s+32\s+0\s+0\s+not running here/);
  });
});
