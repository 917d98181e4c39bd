import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fp from 'fastify-plugin';

export interface SecurityHeadersOptions {
  /** NOVACRON_CORS_ORIGINS: origins whose browsers may call the API; empty: none (no CORS headers at all). */
  corsOrigins: readonly string[];
  /** Served over TLS: browsers are told to stay on HTTPS (HSTS, upgrade-insecure-requests). */
  tls: boolean;
}

/**
 * Security headers (@fastify/helmet) on every answer, and CORS (@fastify/cors)
 * for the allow-listed origins only. The Content-Security-Policy lets Swagger
 * UI at /docs run: its inline script and style hashes (`swaggerCSP`, from
 * @fastify/swagger-ui, registered before) and the validator badge's images.
 * Over plain HTTP there is no HSTS and no upgrade-insecure-requests (they
 * would send a browser to an HTTPS port nobody listens on).
 */
export const securityHeaders = fp<SecurityHeadersOptions>(
  async (app, { corsOrigins, tls }) => {
    await app.register(fastifyHelmet, (instance) => ({
      global: true,
      hsts: tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'script-src': ["'self'", ...instance.swaggerCSP.script],
          'style-src': ["'self'", 'https:', ...instance.swaggerCSP.style],
          'img-src': ["'self'", 'data:', 'validator.swagger.io'],
          'upgrade-insecure-requests': tls ? [] : null,
        },
      },
    }));
    if (corsOrigins.length > 0) {
      await app.register(fastifyCors, {
        origin: [...corsOrigins],
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
        allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'Idempotency-Key', 'X-NovaCron-After', 'X-Correlation-Id', 'traceparent'],
        exposedHeaders: ['X-Correlation-Id', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
        maxAge: 600,
      });
    }
  },
  { name: 'novacron-security-headers' },
);
