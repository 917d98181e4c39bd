import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { acquireRelayLock } from './lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'novacron-relay-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refused(path: string): Error & { code?: string } {
  try {
    acquireRelayLock(path);
  } catch (error) {
    return error as Error;
  }
  throw new Error('the lock was granted');
}

describe('relay lock', () => {
  it('lets one relay hold it; a second gets NC_RELAY_RUNNING naming the holder; release frees it', () => {
    const path = join(dir, 'one.lock');
    const lock = acquireRelayLock(path);
    const error = refused(path);
    expect(isNovaCronError(error, 'NC_RELAY_RUNNING')).toBe(true);
    expect(error.message).toContain(`pid ${process.pid}`);
    lock.renew();
    lock.release();
    expect(existsSync(path)).toBe(false);
    acquireRelayLock(path).release();
  });

  it('takes over a lock left by a process that is gone (a relay killed with SIGKILL)', () => {
    const path = join(dir, 'stale.lock');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(path, JSON.stringify({ pid: Number(gone), host: hostname(), processStart: null, startedAt: '2025-01-01T00:00:00.000Z' }));
    acquireRelayLock(path).release();
  });

  it('takes over a lock whose PID now belongs to another process (a restarted container reuses its PID)', () => {
    const path = join(dir, 'reused.lock');
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), processStart: '1', startedAt: '2025-01-01T00:00:00.000Z' }));
    const lock = acquireRelayLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8')).startedAt).not.toBe('2025-01-01T00:00:00.000Z');
    lock.release();
  });

  it("respects another host's lock while it is renewed, and takes it over once it is not", () => {
    const path = join(dir, 'other-host.lock');
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'relay-elsewhere', processStart: null, startedAt: '2025-01-01T00:00:00.000Z' }));
    expect(refused(path).message).toContain('pid 1 on relay-elsewhere');
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    acquireRelayLock(path, { staleMs: 30_000 }).release();
  });
});
