import { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { TokenBuckets } from '../rate-limit-bucket.ts';
import { API_KEY_ID, type ApiKeyStore } from './api-keys.ts';
import { principalFromClaims } from './claims.ts';
import type { CredentialCache } from './credential-cache.ts';
import type { Principal } from './principal.ts';
import type { TokenVerifier } from './token-verifier.ts';

export interface AuthOptions {
  /** Verifies JWTs: signature by kid (current or previous secret), exp, iss, aud, lifetime. */
  verifier: TokenVerifier;
  apiKeys: ApiKeyStore;
  /** Verified credentials, so a request does not verify again. */
  cache: CredentialCache;
  /** True once a tenant is deleted: its JWTs and API keys stop working at once. */
  isTenantDeleted: (tenantId: string) => boolean;
  /**
   * Failed authentications, per address (`ip:<address>`) and per API key id
   * (`apikey:<id>`): a caller whose bucket is empty gets 429 before any
   * signature is checked or key hashed. null: unlimited.
   */
  failures: TokenBuckets | null;
  /**
   * NOVACRON_TLS_CLIENT_CERTS optional or required: a request without a token
   * or key, on a TLS connection whose client certificate NOVACRON_TLS_CA
   * verified, runs as the operator `cert:<subject CN>`.
   */
  clientCertOperators?: boolean;
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

type Credential = { kind: 'jwt'; value: string } | { kind: 'api-key'; value: string; keyId: string | null };

/** The operator a verified client certificate names, or null (no TLS, no certificate, not verified by the CA, no CN). */
export function clientCertOperator(request: FastifyRequest): Principal | null {
  const socket = request.raw.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return null;
  const cn = socket.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return typeof name === 'string' && name !== '' ? { subject: `cert:${name}`, role: 'operator', tenantId: null } : null;
}

function credentialOf(request: FastifyRequest): Credential {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(authorization);
    if (match === null || match[1] === undefined) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    return { kind: 'jwt', value: match[1] };
  }
  const key = request.headers['x-api-key'];
  if (key !== undefined) {
    const value = typeof key === 'string' ? key.trim() : '';
    return { kind: 'api-key', value, keyId: API_KEY_ID.exec(value)?.[1] ?? null };
  }
  throw unauthenticated('authentication required: send Authorization: Bearer <JWT> or X-API-Key: <key>');
}

function verify({ verifier, apiKeys }: AuthOptions, credential: Credential): { principal: Principal; untilMs: number } {
  if (credential.kind === 'jwt') {
    const { payload, usableUntilMs } = verifier.verify(credential.value);
    const principal = principalFromClaims(payload);
    if ('invalid' in principal) throw unauthenticated(principal.invalid);
    return { principal, untilMs: usableUntilMs };
  }
  const principal = apiKeys.authenticate(credential.value);
  if (principal === null) throw unauthenticated('the API key is invalid or revoked');
  return { principal, untilMs: Number.POSITIVE_INFINITY };
}

function limited(key: string, retryAfterMs: number): NovaCronError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new NovaCronError('NC_RATE_LIMITED', `too many failed authentications for ${key}; retry in ${retryAfterSeconds} s`, {
    retriable: true,
    details: { key, retryAfterSeconds },
  });
}

/**
 * The principal of a request: from the cache when its credential was verified
 * before, else verified (failed attempts limited first, before any
 * cryptography). A deleted tenant's principal is refused either way.
 */
function authenticate(options: AuthOptions, request: FastifyRequest): Principal {
  const { cache, failures, isTenantDeleted } = options;
  if (options.clientCertOperators === true && request.headers.authorization === undefined && request.headers['x-api-key'] === undefined) {
    const operator = clientCertOperator(request);
    if (operator !== null) return operator;
  }
  const credential = credentialOf(request);
  let principal = cache.get(credential.value);
  if (principal === undefined) {
    const budgets = [`ip:${request.ip}`, ...(credential.kind === 'api-key' && credential.keyId !== null ? [`apikey:${credential.keyId}`] : [])];
    for (const key of failures === null ? [] : budgets) {
      const budget = failures?.peek(key);
      if (budget !== undefined && !budget.allowed) throw limited(key, budget.retryAfterMs);
    }
    try {
      const verified = verify(options, credential);
      principal = verified.principal;
      cache.set(credential.value, principal, verified.untilMs, credential.kind === 'api-key' ? credential.keyId : null);
    } catch (error) {
      for (const key of failures === null ? [] : budgets) failures?.take(key);
      throw error;
    }
  }
  if (principal.tenantId !== null && isTenantDeleted(principal.tenantId)) {
    cache.forgetTenant(principal.tenantId);
    throw unauthenticated(`tenant ${principal.tenantId} was deleted: its tokens and API keys no longer work`);
  }
  return principal;
}

/**
 * Authentication for the whole app (fastify-plugin, so its hook and the
 * `request.principal` decoration reach every route): a JWT (`Authorization:
 * Bearer`, verified by fast-jwt, see token-verifier.ts) or an API key
 * (`X-API-Key`). Requests under /v1 without valid credentials answer 401
 * before anything else runs; public routes (/healthz, /readyz, /metrics,
 * /docs) ignore credentials.
 */
export const auth = fp<AuthOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      if (isProtected(request)) request.principal = authenticate(options, request);
    });
  },
  { name: 'novacron-auth' },
);
