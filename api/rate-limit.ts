/**
 * Rate limits on /v1 (@fastify/rate-limit): each tenant, each operator (by
 * subject) and each anonymous address gets NOVACRON_RATE_LIMIT_MAX requests
 * per NOVACRON_RATE_LIMIT_WINDOW_MS; past it, 429 NC_RATE_LIMITED with
 * Retry-After, before the body is read, so a limited command changes nothing.
 * The counters live in this process, or in Redis when NOVACRON_REDIS_URL is set
 * (one budget across every API instance; Redis down: requests are let through
 * rather than refused). Public routes (/healthz, /readyz, /metrics, /docs) are
 * not limited.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { NovaCronError } from '../streams/errors/index.ts';
import { isProtected } from './auth/plugin.ts';

export interface RateLimitSettings {
  /** Requests per window per tenant / operator / address; 0 turns the limits off. */
  max: number;
  windowMs: number;
}

export interface RateLimitOptions {
  settings: RateLimitSettings;
  /** Shared counters (NOVACRON_REDIS_URL), under `<prefix>:ratelimit:`. */
  redis?: { client: Redis; prefix: string } | null;
}

/** Whose budget a request spends: its tenant, its operator, or its address. */
export function rateLimitKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal === null || principal === undefined) return `ip:${request.ip}`;
  return principal.tenantId !== null ? `tenant:${principal.tenantId}` : `operator:${principal.subject}`;
}

export const rateLimit = fp<RateLimitOptions>(
  async (app, { settings: { max, windowMs }, redis }) => {
    if (max === 0) return;
    await app.register(fastifyRateLimit, {
      global: true,
      max,
      timeWindow: windowMs,
      // Route-level onRequest: after the app's authentication hook, so the principal is known.
      hook: 'onRequest',
      keyGenerator: rateLimitKey,
      allowList: (request) => !isProtected(request),
      ...(redis ? { redis: redis.client, nameSpace: `${redis.prefix}:ratelimit:`, skipOnError: true } : {}),
      errorResponseBuilder: (request, context) => {
        const key = rateLimitKey(request);
        return new NovaCronError('NC_RATE_LIMITED', `too many requests for ${key}: at most ${context.max} per ${windowMs / 1000} s; retry in ${context.after}`, {
          retriable: true,
          details: { key, limit: context.max, windowMs, retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
        });
      },
    });
  },
  { name: 'novacron-rate-limit', dependencies: ['novacron-auth'] },
);
