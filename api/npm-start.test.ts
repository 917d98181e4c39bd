import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCliServer, type CliServer } from './testing/cli-server.ts';

let server: CliServer | undefined;
let serverPid: number | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await server?.kill();
  if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  server = serverPid = dataDir = undefined;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops the server, freeing its port, on ${signal} sent to the npm process`, async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'novacron-npm-start-'));
      server = await startCliServer({ NOVACRON_DATA_DIR: dataDir, NOVACRON_PORT: '0', NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_LOG_LEVEL: 'info' }, { via: 'npm' });
      // The server's own pid, from its first log line (pino writes it).
      serverPid = Number(/"pid":(\d+)/.exec(await server.waitFor(/"pid":\d+/))?.[1]);
      expect(serverPid).toBeGreaterThan(0);
      const port = Number(new URL(server.url).port);
      expect(await portOpen(port)).toBe(true);

      server.child.kill(signal);
      await server.waitFor(/NovaCron stopped/);
      expect(await server.exited).toBe(0);
      await waitUntil(() => !alive(serverPid!), 20_000, `the server process ${serverPid} is gone`);
      expect(await portOpen(port)).toBe(false);
    }, 90_000);
  }
});
