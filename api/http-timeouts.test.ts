/**
 * Slow clients (issue 11 item 7): a client that stops sending in the middle of
 * its headers or its body is answered 408 NC_REQUEST_TIMEOUT and cut, within the
 * NOVACRON_HTTP_* timeouts, while every other client is served; an idle
 * keep-alive connection is closed after its timeout.
 */
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, type FleetApp } from './testing/fleet-app.ts';

const HEADERS_MS = 400;
const REQUEST_MS = 700;
const KEEP_ALIVE_MS = 300;

let f: FleetApp;
let port: number;
beforeAll(async () => {
  f = await fleetApp({
    NOVACRON_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    NOVACRON_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
  });
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  port = (f.app.server.address() as AddressInfo).port;
});
afterAll(() => f.close());

interface Slow {
  socket: Socket;
  /** Everything the server sent, once it closed the connection, and when (ms after the first byte was sent). */
  closed: Promise<{ answer: string; afterMs: number }>;
}

async function open(): Promise<Slow> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (data) => (answer += data.toString()));
  const start = Date.now();
  const closed = new Promise<{ answer: string; afterMs: number }>((resolve) => socket.once('close', () => resolve({ answer, afterMs: Date.now() - start })));
  return { socket, closed };
}

describe('slow clients', () => {
  it('one that stops in the middle of its headers gets 408 NC_REQUEST_TIMEOUT and is cut, while others are served', async () => {
    const slow = await open();
    slow.socket.write(`GET /v1/vms HTTP/1.1\r\nHost: x\r\nAuthorization: ${f.operator.authorization}\r\n`);
    // Another client is served meanwhile: the stalled one holds nothing.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const { answer, afterMs } = await slow.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"NC_REQUEST_TIMEOUT"');
    expect(afterMs).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(afterMs).toBeLessThan(10_000); // Node's default would be 60 s for headers, 300 s for the request
  }, 20_000);

  it('one that stops in the middle of its body gets 408 NC_REQUEST_TIMEOUT and is cut', async () => {
    const slow = await open();
    slow.socket.write(
      `POST /v1/regions HTTP/1.1\r\nHost: x\r\nAuthorization: ${f.operator.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":"eu`,
    );
    const { answer, afterMs } = await slow.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"NC_REQUEST_TIMEOUT"');
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(afterMs).toBeLessThan(10_000);
    // Nothing of the cut request was recorded.
    const regions = await f.app.inject({ method: 'GET', url: '/v1/regions', headers: f.operator });
    expect(regions.json().items).toEqual([]);
  }, 20_000);

  it('an idle keep-alive connection is closed after NOVACRON_HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const client = await open();
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const { answer, afterMs } = await client.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(afterMs).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    expect(afterMs).toBeLessThan(10_000); // Fastify's default keeps it 72 s
  }, 20_000);
});
