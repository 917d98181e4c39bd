import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { NovaCronError } from '../../streams/errors/index.ts';
import { CORRELATION_HEADER } from './correlation.ts';
import { renderError } from './render-error.ts';

function send(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = renderError(error, request.id);
  if (answer.severity === 'error') request.log.error({ err: error }, `answered ${answer.status} ${answer.body.error.code}`);
  else request.log.info({ code: answer.body.error.code }, `answered ${answer.status}: ${answer.body.error.message}`);
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/**
 * The one root error handler and the 404 handler. Registered once on the root
 * instance (fastify-plugin), so every route, hook and plugin answers failures
 * as `{ error: { code, message, details? } }`. Route plugins must not set
 * their own error handler: throw a NovaCronError instead.
 */
export const errorHandling: FastifyPluginAsync = fp(
  async (app) => {
    app.setErrorHandler((error, request, reply) => send(error, request, reply));
    app.setNotFoundHandler((request, reply) =>
      send(new NovaCronError('NC_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`), request, reply),
    );
  },
  { name: 'novacron-error-handling' },
);

/** Fastify's `frameworkErrors` option: router failures (bad URL encoding…) in the same format. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // No hook runs for these requests: echo the correlation id here.
  reply.header(CORRELATION_HEADER, request.id);
  send(error, request, reply);
}

/** Fastify's `clientErrorHandler` option: HTTP-level parse errors, answered on the raw socket in the same format. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'NC_REQUEST_TIMEOUT' : error.code === 'HPE_HEADER_OVERFLOW' ? 'NC_HEADERS_TOO_LARGE' : 'NC_BAD_REQUEST';
  const answer = renderError(new NovaCronError(code, `the HTTP request could not be read (${error.code ?? error.message})`), '-');
  const body = JSON.stringify(answer.body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
