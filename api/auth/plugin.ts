import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { ApiKeyStore } from './api-keys.ts';
import type { Principal } from './principal.ts';
import { principalFromClaims } from './claims.ts';

export interface AuthOptions {
  /** HS256 secret of the JWTs (see loadJwtSecret). */
  secret: string;
  apiKeys: ApiKeyStore;
}

const unauthenticated = (message: string, cause?: unknown) =>
  new NovaCronError('NC_UNAUTHENTICATED', message, cause === undefined ? {} : { cause });

/**
 * True for what needs a principal: every route whose pattern is under /v1. The
 * route pattern (not the raw URL, which may be percent-encoded) decides; for a
 * path no route matches, the raw path decides, so unknown /v1 paths answer 401
 * to anonymous callers rather than revealing which routes exist.
 */
export function isProtected(request: FastifyRequest): boolean {
  const path = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
  return path === '/v1' || path.startsWith('/v1/');
}

function authenticate(app: FastifyInstance, apiKeys: ApiKeyStore, request: FastifyRequest): Principal {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(authorization);
    if (match === null || match[1] === undefined) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    let payload: object | string;
    try {
      payload = app.jwt.verify<object | string>(match[1]);
    } catch (error) {
      const expired = error instanceof Error && Reflect.get(error, 'code') === 'FAST_JWT_EXPIRED';
      throw unauthenticated(expired ? 'the token has expired; get a new one' : 'the token is invalid (malformed, or not signed with this server\'s secret)', error);
    }
    const principal = principalFromClaims(payload);
    if ('invalid' in principal) throw unauthenticated(principal.invalid);
    return principal;
  }
  const key = request.headers['x-api-key'];
  if (key !== undefined) {
    const principal = typeof key === 'string' ? apiKeys.authenticate(key.trim()) : null;
    if (principal === null) throw unauthenticated('the API key is invalid or revoked');
    return principal;
  }
  throw unauthenticated('authentication required: send Authorization: Bearer <JWT> or X-API-Key: <key>');
}

/**
 * Authentication for the whole app (fastify-plugin, so its hook and the
 * `request.principal` decoration reach every route): a JWT (`Authorization:
 * Bearer`, verified by @fastify/jwt) or an API key (`X-API-Key`). Requests
 * under /v1 without valid credentials answer 401 before anything else runs;
 * public routes (/healthz, /readyz, /metrics, /docs) ignore credentials.
 */
export const auth = fp<AuthOptions>(
  async (app, { secret, apiKeys }) => {
    await app.register(fastifyJwt, { secret, verify: { algorithms: ['HS256'] } });
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      if (isProtected(request)) request.principal = authenticate(app, apiKeys, request);
    });
  },
  { name: 'novacron-auth' },
);
