/**
 * A bounded graceful shutdown (issue 11 item 7): a slow-loris client that
 * stops in the middle of its headers, or of its body, holds the close no
 * longer than NOVACRON_SHUTDOWN_GRACE_MS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { startServer } from './server.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function slowClient(url: string, partial: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(partial);
  return socket;
}

describe('graceful shutdown', () => {
  it('stops after NOVACRON_SHUTDOWN_GRACE_MS although clients stopped mid-headers and mid-body', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'novacron-grace-'));
    dirs.push(dataDir);
    const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_PORT: '0', NOVACRON_HOST: '127.0.0.1', NOVACRON_SHUTDOWN_GRACE_MS: '300' });
    const server = await startServer(config, { logger: false });
    const headers = await slowClient(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const body = await slowClient(server.url, 'POST /v1/regions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":');
    const started = Date.now();
    await server.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5_000); // without the grace period it waits until the clients leave
    headers.destroy();
    body.destroy();
  }, 30_000);
});
