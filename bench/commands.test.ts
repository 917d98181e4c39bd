// bench:commands runs end to end at a tiny size and ends with its figures as JSON,
// with every key the issue and docs/performance.md name (the figures themselves are
// the bench's business, not a test's: this machine is shared and noisy).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run bench:commands', () => {
  it('prints a JSON object of its figures as its last line', { timeout: 240_000 }, async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/commands.ts'], {
      env: { ...process.env, BENCH_SECONDS: '1', BENCH_NODES: '6', BENCH_TENANTS: '3', BENCH_VMS: '12', BENCH_CONNECTIONS: '4' },
      timeout: 220_000,
      maxBuffer: 8 << 20,
    });
    const figures = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, number>;
    for (const key of ['helloRps', 'storeAppendsPerSec', 'createsHotTenantPerSec', 'createsManyTenantsPerSec', 'lifecyclePerSec', 'getVmPerSec', 'listVmsPerSec', 'createsP99AtHalfMs', 'lifecycleP99AtHalfMs']) {
      expect(typeof figures[key], key).toBe('number');
    }
    for (const key of ['helloRps', 'storeAppendsPerSec', 'createsHotTenantPerSec', 'createsManyTenantsPerSec', 'lifecyclePerSec', 'getVmPerSec', 'listVmsPerSec']) {
      expect(figures[key], key).toBeGreaterThan(0);
    }
    // The workload asks for nothing that fails: no 5xx, no 4xx, no broken connection.
    expect({ status5xx: figures['status5xx'], status4xx: figures['status4xx'], connectionErrors: figures['connectionErrors'] }).toEqual({ status5xx: 0, status4xx: 0, connectionErrors: 0 });
  });
});
