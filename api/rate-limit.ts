/**
 * Rate limits on /v1 (@fastify/rate-limit with a token-bucket store): each
 * tenant, each operator (by subject) and each anonymous address has a bucket
 * of NOVACRON_RATE_LIMIT_BURST requests refilled at NOVACRON_RATE_LIMIT_RATE
 * per second; an empty bucket answers 429 NC_RATE_LIMITED with Retry-After,
 * before the body is read, so a limited command changes nothing. The buckets
 * live in this process, or in Redis when NOVACRON_REDIS_URL is set (one
 * budget across every API instance, one Lua script per request; Redis down:
 * requests are let through rather than refused). Public routes (/healthz,
 * /readyz, /metrics, /docs) are not limited. Failed authentications have
 * their own limit, in the auth plugin, before any verification.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { NovaCronError } from '../streams/errors/index.ts';
import { isProtected } from './auth/plugin.ts';
import { createTokenBuckets, type BucketAnswer, type BucketSettings } from './rate-limit-bucket.ts';
import { createRedisTokenBuckets } from './rate-limit-redis.ts';

export interface RateLimitSettings {
  /** Requests per second per tenant / operator / address; 0 turns the limits off. */
  rate: number;
  /** Largest burst: the bucket's capacity. */
  burst: number;
}

export interface RateLimitOptions {
  settings: RateLimitSettings;
  /** Shared buckets (NOVACRON_REDIS_URL), under `<prefix>:ratelimit:`. */
  redis?: { client: Redis; prefix: string } | null;
  /** Clock (epoch ms) of the in-process buckets (Redis's buckets use the Redis server's). */
  now?: () => number;
}

/** Whose budget a request spends: its tenant, its operator, or its address. */
export function rateLimitKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal === null || principal === undefined) return `ip:${request.ip}`;
  return principal.tenantId !== null ? `tenant:${principal.tenantId}` : `operator:${principal.subject}`;
}

type Take = (key: string) => BucketAnswer | Promise<BucketAnswer>;

/**
 * A store for @fastify/rate-limit backed by token buckets: the plugin's `max`
 * is the burst; a taken token reports `current = burst − tokens left`, a
 * refusal `current = burst + 1` and the wait for the next token as the ttl
 * (Retry-After, rounded up to whole seconds).
 */
function bucketStore(take: Take, burst: number) {
  const incr = (key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void): void => {
    Promise.resolve()
      .then(() => take(key))
      .then(
        ({ allowed, remaining, retryAfterMs }) => callback(null, { current: allowed ? burst - remaining : burst + 1, ttl: allowed ? 1000 : retryAfterMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
  };
  return class BucketStore {
    incr = incr;
    child(): BucketStore {
      return this;
    }
  };
}

export const rateLimit = fp<RateLimitOptions>(
  async (app, { settings: { rate, burst }, redis, now = Date.now }) => {
    if (rate === 0) return;
    const bucket: BucketSettings = { rate, burst };
    const take: Take = redis ? createRedisTokenBuckets(redis.client, redis.prefix, bucket).take : createTokenBuckets(bucket, { now }).take;
    await app.register(fastifyRateLimit, {
      global: true,
      max: burst,
      timeWindow: 1000,
      // Route-level onRequest: after the app's authentication hook, so the principal is known.
      hook: 'onRequest',
      keyGenerator: rateLimitKey,
      allowList: (request) => !isProtected(request),
      store: bucketStore(take, burst),
      skipOnError: true,
      errorResponseBuilder: (request, context) => {
        const key = rateLimitKey(request);
        const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000));
        return new NovaCronError('NC_RATE_LIMITED', `too many requests for ${key}: at most ${rate} per second, bursts of ${burst}; retry in ${retryAfterSeconds} s`, {
          retriable: true,
          details: { key, ratePerSecond: rate, burst, retryAfterSeconds },
        });
      },
    });
  },
  { name: 'novacron-rate-limit', dependencies: ['novacron-auth'] },
);
