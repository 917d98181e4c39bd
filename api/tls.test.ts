import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { signToken } from './auth/tokens.ts';
import { loadConfig } from './config.ts';
import { startServer, type RunningServer } from './server.ts';
import { testApp, type TestApp } from './testing/test-app.ts';

/** A CA, a server certificate for 127.0.0.1 and an operator's client certificate, made by the openssl CLI. */
function makeCertificates(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=NovaCron test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=alice');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
  const file = (name: string) => join(dir, name);
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key'), clientCert: file('client.pem'), clientKey: file('client.key') };
}

let dir: string;
let certs: ReturnType<typeof makeCertificates>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-tls-'));
  certs = makeCertificates(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: RunningServer | undefined;
let t: TestApp | undefined;
afterEach(async () => {
  await server?.close();
  await t?.close();
  server = undefined;
  t = undefined;
});

async function start(env: Record<string, string>) {
  const dataDir = join(dir, `data-${Math.random().toString(36).slice(2)}`);
  const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_PORT: '0', NOVACRON_TLS_CERT: certs.cert, NOVACRON_TLS_KEY: certs.key, ...env });
  server = await startServer(config, { logger: false, wiring: () => ({ plugins: [], tenantExists: async () => false }) });
  return { url: new URL(server.url), secret: loadJwtSecret({ value: undefined, dataDir }) };
}

/** One HTTPS/1.1 GET: status, headers, body. */
function get(url: URL, path: string, options: { ca?: Buffer; cert?: Buffer; key?: Buffer; headers?: Record<string, string>; method?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpsRequest(new URL(path, url), { ...options, method: options.method ?? 'GET', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS (NOVACRON_TLS_CERT / NOVACRON_TLS_KEY)', () => {
  it('serves HTTPS with HTTP/2 and HTTP/1.1 on one port, and no plain HTTP', async () => {
    const { url } = await start({});
    expect(url.protocol).toBe('https:');
    const ca = readFileSync(certs.ca);
    const h1 = await get(url, '/healthz', { ca });
    expect(h1.status).toBe(200);
    expect(h1.headers['strict-transport-security']).toContain('max-age=');

    const session = http2Connect(url.origin, { ca });
    try {
      const answer = await new Promise<{ status: unknown; protocol: string | undefined }>((resolve, reject) => {
        const stream = session.request({ ':path': '/healthz' });
        stream.on('response', (headers) => resolve({ status: headers[':status'], protocol: session.alpnProtocol }));
        stream.on('error', reject);
        stream.end();
      });
      expect(answer).toEqual({ status: 200, protocol: 'h2' });
    } finally {
      session.destroy();
    }
    // A client that does not trust the certificate, or speaks plain HTTP, gets nothing.
    await expect(get(url, '/healthz')).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    const plain = await new Promise<string>((resolve) => {
      const socket = netConnect(Number(url.port), url.hostname, () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('close', () => resolve(received));
      socket.on('error', () => socket.destroy());
      socket.setTimeout(3_000, () => socket.destroy());
    });
    expect(plain).not.toContain('200 OK');
  });

  it('lets an operator in by a client certificate the CA signed (NOVACRON_TLS_CLIENT_CERTS=optional); tokens still work', async () => {
    const { url, secret } = await start({ NOVACRON_TLS_CA: certs.ca, NOVACRON_TLS_CLIENT_CERTS: 'optional', NOVACRON_HTTP2: 'off' });
    const ca = readFileSync(certs.ca);
    const withCert = { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
    // An operator-only route: 404 "api key … does not exist" as an operator, 401 without credentials, 403 as a tenant.
    const revoke = '/v1/api-keys/0123456789abcdef';
    const asCert = await get(url, revoke, { ...withCert, method: 'DELETE' });
    expect(asCert.status).toBe(404);
    expect(JSON.parse(asCert.body).error.code).toBe('NC_NOT_FOUND');
    expect((await get(url, revoke, { ca, method: 'DELETE' })).status).toBe(401);
    const token = signToken(secret, { subject: 'bob', role: 'operator', ttlSeconds: 60 });
    expect((await get(url, revoke, { ca, method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    const tenant = signToken(secret, { subject: 'eve', role: 'tenant-admin', tenantId: 'acme', ttlSeconds: 60 });
    expect((await get(url, revoke, { ...withCert, method: 'DELETE', headers: { authorization: `Bearer ${tenant}` } })).status).toBe(403);
  });

  it('refuses connections without a client certificate with NOVACRON_TLS_CLIENT_CERTS=required', async () => {
    const { url } = await start({ NOVACRON_TLS_CA: certs.ca, NOVACRON_TLS_CLIENT_CERTS: 'required' });
    const ca = readFileSync(certs.ca);
    await expect(get(url, '/healthz', { ca })).rejects.toThrow();
    expect((await get(url, '/healthz', { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) })).status).toBe(200);
  });

  it('refuses half a TLS configuration, naming the variable', () => {
    expect(() => loadConfig({ NOVACRON_TLS_CERT: certs.cert })).toThrow(/NOVACRON_TLS_KEY/);
    expect(() => loadConfig({ NOVACRON_TLS_CLIENT_CERTS: 'required', NOVACRON_TLS_CERT: certs.cert, NOVACRON_TLS_KEY: certs.key })).toThrow(/NOVACRON_TLS_CA/);
    expect(() => loadConfig({ NOVACRON_TLS_CA: certs.ca })).toThrow(/NOVACRON_TLS_CERT/);
  });
});

describe('CORS and security headers', () => {
  it('allows no origin by default, and only the NOVACRON_CORS_ORIGINS ones when set', async () => {
    t = testApp();
    const preflight = (origin: string) =>
      t!.app.inject({ method: 'OPTIONS', url: '/v1/regions', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    await t.close();
    t = testApp({ env: { NOVACRON_CORS_ORIGINS: 'https://console.example.com' } });
    const allowed = await preflight('https://console.example.com');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.com');
    expect(String(allowed.headers['access-control-allow-headers'])).toMatch(/authorization/i);
    expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    expect(() => loadConfig({ NOVACRON_CORS_ORIGINS: 'https://console.example.com/path' })).toThrow(/NOVACRON_CORS_ORIGINS/);
  });

  it('sends helmet headers everywhere, with a CSP that lets Swagger UI at /docs run', async () => {
    t = testApp();
    const health = await t.app.inject({ url: '/healthz' });
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(health.headers['content-security-policy']).toContain("default-src 'self'");
    // Plain HTTP: no HSTS, no upgrade-insecure-requests (the browser would go to an HTTPS port nobody serves).
    expect(health.headers['strict-transport-security']).toBeUndefined();
    const docs = await t.app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    const csp = String(docs.headers['content-security-policy']);
    expect(csp).not.toContain('upgrade-insecure-requests');
    // Every inline script of the page is allowed by a hash in script-src.
    const { createHash } = await import('node:crypto');
    const inline = [...docs.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1] ?? '').digest('base64')}'`);
    for (const hash of inline) expect(csp).toContain(hash);
    expect(csp).toMatch(/script-src 'self'/);
  });
});
