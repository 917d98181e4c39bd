import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { samples } from '../streams/catalog/fixtures.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { signToken } from './auth/tokens.ts';
import { loadConfig } from './config.ts';
import { openPlatform } from './platform.ts';
import { embeddedChildEnv } from './testing/child-env.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Server {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Resolves with the first stdout line matching `pattern` (already printed or still to come). */
  waitFor(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

let dataDir: string;
let server: Server | undefined;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'novacron-server-'));
  // A tenant to create API keys for.
  const platform = openPlatform(loadConfig({ NOVACRON_DATA_DIR: dataDir }));
  await platform.store.append('tenant-t1', [{ type: 'TenantCreated', data: samples.TenantCreated, metadata: { tenantId: 't1' } }]);
  await platform.close();
});

afterEach(async () => {
  if (server !== undefined && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

async function startCli(): Promise<Server> {
  const child = spawn(process.execPath, [join(root, 'bin', 'novacron.mjs'), 'start'], {
    cwd: root,
    env: embeddedChildEnv({ NOVACRON_DATA_DIR: dataDir, NOVACRON_PORT: '0', NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_LOG_LEVEL: 'info' }),
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = once(child, 'exit').then(([code]) => (typeof code === 'number' ? code : null));
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return resolve(seen);
      waiters.push({ pattern, resolve });
      void exited.then((code) => reject(new Error(`novacron exited (${code}) before printing ${pattern}\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)));
    });
  const listening = await waitFor(/NovaCron API listening on (http:\/\/\S+)/);
  const url = /listening on (http:\/\/\S+)/.exec(listening)?.[1] ?? '';
  return { child, url, waitFor, exited };
}

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
