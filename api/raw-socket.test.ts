/**
 * An oversized body on a raw socket (issue 11 item 7): whether it declares its
 * length or comes chunked, the client reads a 413 NC_PAYLOAD_TOO_LARGE answer
 * before the server closes (it may then see EPIPE on what it still writes).
 */
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, type FleetApp } from './testing/fleet-app.ts';

let f: FleetApp;
let port: number;
beforeAll(async () => {
  f = await fleetApp();
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  port = (f.app.server.address() as AddressInfo).port;
});
afterAll(() => f.close());

/** Sends `head`, then 8 MiB of body (raw, or as chunks), and returns what the server answered before it closed. */
async function send8MiB(chunked: boolean): Promise<string> {
  const size = 8 * 1024 * 1024;
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (data) => (answer += data.toString()));
  socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server has answered and closed
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  const length = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`;
  socket.write(`POST /v1/regions HTTP/1.1\r\nHost: x\r\nAuthorization: ${f.operator.authorization}\r\nContent-Type: application/json\r\n${length}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent < size && !socket.destroyed; sent += chunk.length) {
    const frame = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
    if (!socket.write(frame)) await new Promise((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
  }
  if (!socket.destroyed) socket.end(chunked ? '0\r\n\r\n' : '');
  await closed;
  return answer;
}

describe('an 8 MiB body on a raw socket', () => {
  it.each([false, true])('chunked=%s → 413 NC_PAYLOAD_TOO_LARGE is read by the client', async (chunked) => {
    const answer = await send8MiB(chunked);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('NC_PAYLOAD_TOO_LARGE');
  }, 30_000);
});
