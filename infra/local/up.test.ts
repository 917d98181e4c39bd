/**
 * infra/local/up's prerequisite check and its clean-up on failure, at the bash level.
 * Each test has its own state dir (NOVACRON_INFRA_DIR) and ports: the shared engines
 * on this machine are never touched.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    await run(['infra/local/down'], { NOVACRON_INFRA_DIR: join(dir, 'state') }); // whatever a failing run left
    rmSync(dir, { recursive: true, force: true });
  }
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', args, { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** A PATH holding every command of this one except `without`. */
function pathWithout(dir: string, without: RegExp): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const entry of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(entry);
    } catch {
      continue;
    }
    for (const name of names) {
      if (without.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(entry, name), join(bin, name));
    }
  }
  return bin;
}

const pidFiles = (state: string): string[] =>
  existsSync(state) ? readdirSync(state, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.pid')) : [];

describe('infra/local/up', () => {
  it('checks every prerequisite before starting anything, and names each missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'novacron-infra-up-'));
    dirs.push(dir);
    const state = join(dir, 'state');
    const redisPort = await freePort();
    const run1 = await run(['infra/local/up', 'redis', 'kafka', 'clickhouse'], {
      NOVACRON_INFRA_DIR: state,
      PATH: pathWithout(dir, /^(mvn|clickhouse.*)$/),
      NOVACRON_CLICKHOUSE_SERVER: join(dir, 'no-such-clickhouse-server'),
      NOVACRON_REDIS_PORT: String(redisPort),
      NOVACRON_KAFKA_PORT: String(await freePort()),
    });
    expect(run1.code).not.toBe(0);
    expect(run1.stdout).toBe(''); // no exports
    expect(run1.stderr).toMatch(/missing prerequisite: mvn/);
    expect(run1.stderr).toMatch(/missing prerequisite: clickhouse-server/);
    expect(run1.stderr).toMatch(/nothing was started/);
    // Redis, first in the list and installed, was not started either.
    expect(pidFiles(state)).toEqual([]);
    expect(await portOpen(redisPort)).toBe(false);
  }, 120_000);

  it('stops what it started when a later service fails to come up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'novacron-infra-up-'));
    dirs.push(dir);
    const state = join(dir, 'state');
    const redisPort = await freePort();
    // A "server" that passes the check but exits at once.
    const run1 = await run(['infra/local/up', 'redis', 'clickhouse'], {
      NOVACRON_INFRA_DIR: state,
      NOVACRON_CLICKHOUSE_SERVER: '/bin/false',
      NOVACRON_REDIS_PORT: String(redisPort),
      NOVACRON_CLICKHOUSE_HTTP_PORT: String(await freePort()),
      NOVACRON_CLICKHOUSE_TCP_PORT: String(await freePort()),
      NOVACRON_INFRA_TIMEOUT: '30',
    });
    expect(run1.code).not.toBe(0);
    expect(run1.stdout).toBe('');
    expect(run1.stderr).toMatch(/redis.*started pid/);
    expect(run1.stderr).toMatch(/stopping redis, which this run started/);
    expect(pidFiles(state)).toEqual([]);
    expect(await portOpen(redisPort)).toBe(false);
  }, 120_000);
});
