import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { samples } from '../streams/catalog/fixtures.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { signToken } from './auth/tokens.ts';
import { loadConfig } from './config.ts';
import { openPlatform } from './platform.ts';
import { startCliServer, type CliServer } from './testing/cli-server.ts';

let dataDir: string;
let server: CliServer | undefined;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'novacron-server-'));
  // A tenant to create API keys for.
  const platform = openPlatform(loadConfig({ NOVACRON_DATA_DIR: dataDir }));
  await platform.store.append('tenant-t1', [{ type: 'TenantCreated', data: samples.TenantCreated, metadata: { tenantId: 't1' } }]);
  await platform.close();
});

afterEach(async () => {
  await server?.kill();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

const startCli = () => startCliServer({ NOVACRON_DATA_DIR: dataDir, NOVACRON_PORT: '0', NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_LOG_LEVEL: 'info' });

/** Starts a POST whose body is sent in two parts: the request is in flight until `finish()`. */
function slowPost(url: string, headers: Record<string, string>, body: string) {
  const bytes = Buffer.from(body);
  const req = request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(bytes.length) } });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  req.write(bytes.subarray(0, 5));
  return { response, finish: () => req.end(bytes.subarray(5)) };
}

/** One GET on its own connection (no keep-alive pool), resolving with the status. */
function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

const operatorToken = () => signToken(loadJwtSecret({ value: undefined, dataDir }), { subject: 'test', role: 'operator', ttlSeconds: 300 });

describe('novacron start', () => {
  it('serves, and on SIGTERM lets an in-flight request finish, refuses new connections, then exits 0', async () => {
    server = await startCli();
    await server.waitFor(/API docs +http:\/\/\S+\/docs/);
    await server.waitFor(/npx novacron token --role operator/);
    expect(await get(`${server.url}/healthz`)).toBe(200);

    const slow = slowPost(`${server.url}/v1/tenants/t1/api-keys`, { authorization: `Bearer ${operatorToken()}`, 'x-correlation-id': 'in-flight-1' }, JSON.stringify({ role: 'tenant-user' }));
    await server.waitFor(/"correlationId":"in-flight-1".*incoming request/);
    server.child.kill('SIGTERM');
    await server.waitFor(/SIGTERM: letting in-flight requests finish/);
    // The listener closes (until then, new requests answer 503 NC_SHUTTING_DOWN).
    const url = server.url;
    await vi.waitFor(() => expect(get(`${url}/healthz`)).rejects.toThrow(/ECONNREFUSED/), { timeout: 5_000, interval: 20 });

    slow.finish();
    const answer = await slow.response;
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({ tenantId: 't1', role: 'tenant-user' });
    expect(await server.exited).toBe(0);
    await server.waitFor(/NovaCron stopped/);
  });

  it('exits at once on a second signal', async () => {
    server = await startCli();
    const slow = slowPost(`${server.url}/v1/tenants/t1/api-keys`, { authorization: `Bearer ${operatorToken()}`, 'x-correlation-id': 'in-flight-2' }, JSON.stringify({ role: 'tenant-user' }));
    slow.response.catch(() => undefined);
    await server.waitFor(/"correlationId":"in-flight-2".*incoming request/);
    server.child.kill('SIGTERM');
    await server.waitFor(/SIGTERM: letting in-flight requests finish/);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(1);
  });
});
