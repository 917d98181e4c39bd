import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import packageJson from '../package.json' with { type: 'json' };
import { NovaCronError } from '../streams/errors/index.ts';
import { openApiDatabase } from './api-db.ts';
import { apiKeyRoutes } from './auth/api-key-routes.ts';
import { requestAuditor } from './routes/audit-routes.ts';
import { createApiKeyStore } from './auth/api-keys.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { createCredentialCache } from './auth/credential-cache.ts';
import { auth } from './auth/plugin.ts';
import { createTokenVerifier } from './auth/token-verifier.ts';
import { createTokenBuckets } from './rate-limit-bucket.ts';
import { rateLimit } from './rate-limit.ts';
import type { Config, HttpTimeouts, TlsSettings } from './config.ts';

/**
 * Node's own limits on slow clients, given when the server is created: a client that
 * stops in its headers or body is answered 408 (clientErrorHandler) and cut, so it
 * holds neither the server nor a graceful shutdown. Expiry is checked every
 * quarter of the shorter limit (Node's default is every 30 s, far too coarse).
 */
function nodeServerTimeouts(timeouts: HttpTimeouts): Record<string, number> {
  return {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: Math.max(25, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 4)),
  };
}
import { securityHeaders } from './http/security-headers.ts';
import { CORRELATION_HEADER, correlationId } from './http/correlation.ts';
import { clientErrorHandler, errorHandling, frameworkErrors } from './http/error-handling.ts';
import { installBodyParsers } from './http/json-body.ts';
import { openApi } from './http/openapi.ts';
import { strictValidatorCompiler } from './http/strict-validator.ts';
import { opsRoutes } from './http/ops-routes.ts';
import { idempotency } from './idempotency/plugin.ts';
import { createIdempotencyStore } from './idempotency/store.ts';
import { createMetrics, type AppMetrics } from './metrics/metrics.ts';
import type { Platform } from './platform.ts';

/**
 * Fastify's `https` (and `http2`) options from the TLS settings (config.tls): the PEM files
 * are read here, at start; a client certificate is requested when
 * NOVACRON_TLS_CLIENT_CERTS is optional or required, and only `required`
 * refuses a connection without a valid one.
 */
function serverTls(tls: TlsSettings | null, timeouts: HttpTimeouts): Record<string, unknown> {
  if (tls === null) return { http: nodeServerTimeouts(timeouts) };
  const read = (path: string, variable: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new NovaCronError('NC_CONFIG_INVALID', `${variable} names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { details: { variable } });
    }
  };
  const https = {
    cert: read(tls.certPath, 'NOVACRON_TLS_CERT'),
    key: read(tls.keyPath, 'NOVACRON_TLS_KEY'),
    ...(tls.caPath === undefined ? {} : { ca: read(tls.caPath, 'NOVACRON_TLS_CA') }),
    requestCert: tls.clientCerts !== 'none',
    rejectUnauthorized: tls.clientCerts === 'required',
    minVersion: 'TLSv1.2' as const,
    ...(tls.http2 ? {} : nodeServerTimeouts(timeouts)),
    ...(tls.http2 ? { allowHTTP1: true } : {}),
  };
  return tls.http2 ? { https, http2: true } : { https };
}

/** The Fastify instance of the API, typed with the TypeBox type provider. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/**
 * A route plugin: an encapsulated Fastify plugin whose routes declare their
 * schemas with TypeBox (params, querystring, body, and every response status,
 * errors through `errorResponses(…)`). Options are closed over:
 * `export const tenantCommands = (deps: Deps): RoutePlugin => async (app) => { … }`.
 */
export type RoutePlugin = FastifyPluginAsyncTypebox;

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Probes and scrapes come every few seconds: no "incoming request"/"request completed" lines for them (their failures are still logged). */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
const isProbe = (request: { url?: string | undefined }): boolean => PROBES.has((request.url ?? '').split('?')[0] ?? '');

export interface AppOptions {
  platform: Platform;
  config: Config;
  /** Whether a tenant exists (and is not deleted); API keys are only created for existing tenants. */
  tenantExists: (tenantId: string) => Promise<boolean>;
  /** Fastify/pino logger options; default `{ level: config.logLevel }` (JSON lines on stdout). `false` silences. */
  logger?: FastifyServerOptions['logger'];
  /** Route plugins registered after auth, idempotency and the error handler, so all of them apply. */
  extraPlugins?: readonly RoutePlugin[];
  /** Clock (epoch ms) for Idempotency-Key expiry. */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry and the helpers the command side records with. */
    metrics: AppMetrics;
  }
}

/**
 * Builds the HTTP API: TypeBox validation, 1 MiB body limit, one error format,
 * correlation ids, auth (JWT or API key) on /v1, Idempotency-Key, OpenAPI at
 * /docs, /healthz, /readyz, /metrics, then `extraPlugins`. The app owns
 * `<dataDir>/api.db` and closes it with itself; the platform stays the
 * caller's. Plugins load on `ready()`, `listen()` or the first `inject()`.
 */
/**
 * Never logged: credentials in headers, the Idempotency-Key (it keys the sealed answer in
 * api.db) and anything named like a key, secret, token or password.
 */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'idempotencyKey',
  'key',
  'secret',
  'token',
  'password',
  '*.key',
  '*.secret',
  '*.token',
  '*.password',
];

function withRedaction(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === null || typeof logger !== 'object') return logger;
  return { redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' }, ...logger };
}

export function buildApp({ platform, config, tenantExists, logger, extraPlugins = [], now = Date.now }: AppOptions): App {
  const app = Fastify({
    // The TLS settings: HTTPS, HTTP/2 with HTTP/1.1 beside it (the TypeScript types follow the default HTTP/1 server, whose API Fastify gives either way).
    ...serverTls(config.tls, config.httpTimeouts),
    // Fastify sets these on the server after creating it (its defaults: no request timeout, 72 s keep-alive).
    requestTimeout: config.httpTimeouts.requestMs,
    keepAliveTimeout: config.httpTimeouts.keepAliveMs,
    logger: withRedaction(logger ?? { level: config.logLevel }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: correlationId,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'correlationId', disableRequestLogging: isProbe }),
    // Shutdown answers 503 NC_SHUTTING_DOWN through the error handler (below) instead of Fastify's own body.
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler,
    routerOptions: { maxParamLength: 256 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(strictValidatorCompiler);
  // JSON only (UTF-8, bounded depth, well-formed strings): anything else is 415 NC_UNSUPPORTED_MEDIA_TYPE, but for an empty body or `{}`.
  installBodyParsers(app);

  const metrics = createMetrics();
  app.decorate('metrics', metrics);

  const db = openApiDatabase(join(config.dataDir, 'api.db'), { sync: config.sqliteSync });
  const credentials = createCredentialCache({ max: config.authCache.size, apiKeyTtlMs: config.authCache.apiKeyTtlMs });
  const keyStore = createApiKeyStore(db);
  // A revocation drops the key's cached verifications at once.
  const apiKeys = { ...keyStore, revoke: (id: string) => { const revoked = keyStore.revoke(id); credentials.forgetApiKey(id); return revoked; } };
  const idempotencyStore = createIdempotencyStore(db, { ttlMs: config.idempotencyTtlHours * 3_600_000 });
  const secret = loadJwtSecret({ value: config.jwtSecret, dataDir: config.dataDir });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header(CORRELATION_HEADER, request.id);
    if (closing) throw new NovaCronError('NC_SHUTTING_DOWN', 'this instance is shutting down; retry, another instance will answer');
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({ route: request.routeOptions.url ?? '(unmatched)', method: request.method, status: String(reply.statusCode) });
  });
  app.addHook('onClose', async () => {
    metrics.registry.clear();
    db.close();
  });

  app.register(errorHandling);
  app.register(openApi, { version: packageJson.version });
  app.register(securityHeaders, { corsOrigins: config.corsOrigins, tls: config.tls !== null });
  const verifier = createTokenVerifier({ current: secret, previous: config.jwt.previousSecret, policy: config.jwt });
  const { burst, perMinute } = config.authFailures;
  const failures = perMinute === 0 ? null : createTokenBuckets({ rate: perMinute / 60, burst }, { now });
  app.register(auth, { verifier, apiKeys, cache: credentials, isTenantDeleted: (tenantId) => platform.keys.isDestroyed(tenantId), failures, clientCertOperators: config.tls !== null && config.tls.clientCerts !== 'none' });
  app.register(rateLimit, { settings: config.rateLimit, redis: platform.redis && { client: platform.redis.client, prefix: platform.redis.prefix }, now });
  app.register(idempotency, { store: idempotencyStore, now });
  app.register(opsRoutes, { store: platform.store, metrics });
  app.register(apiKeyRoutes, { apiKeys, tenantExists, audit: requestAuditor(platform.store) });
  for (const plugin of extraPlugins) app.register(plugin);
  return app;
}
