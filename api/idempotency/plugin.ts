import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { NovaCronError } from '../../streams/errors/index.ts';
import { isProtected } from '../auth/plugin.ts';
import { isIdempotencyKey, requestHash } from './request-hash.ts';
import type { IdempotencyScope, IdempotencyStore, StoredAnswer } from './store.ts';

export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** Clock (epoch ms) for expiry; tests pass their own. */
  now?: () => number;
}

const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PURGE_EVERY_MS = 60_000;

interface InFlight {
  hash: string;
  /** The first request's answer, or null when it left nothing to replay (5xx, not JSON). */
  done: Promise<StoredAnswer | null>;
  finish(answer: StoredAnswer | null): void;
}

interface Claim {
  scope: IdempotencyScope;
  scopeKey: string;
  hash: string;
  inFlight: InFlight;
}

const storable = (status: number): boolean => (status >= 200 && status < 300) || (status >= 400 && status < 500);

function inFlight(hash: string): InFlight {
  let finish: (answer: StoredAnswer | null) => void = () => undefined;
  const done = new Promise<StoredAnswer | null>((resolve) => {
    finish = resolve;
  });
  return { hash, done, finish };
}

function reused(key: string): NovaCronError {
  return new NovaCronError('NC_IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was already used for a different request (method, URL or body); use a new key', {
    details: { idempotencyKey: key },
  });
}

function replay(reply: FastifyReply, answer: StoredAnswer): FastifyReply {
  reply.code(answer.status).header('idempotent-replayed', 'true');
  if (answer.contentType !== null) reply.header('content-type', answer.contentType);
  if (answer.location !== null) reply.header('location', answer.location);
  return reply.send(answer.body);
}

const headerText = (value: number | string | string[] | undefined): string | null => (typeof value === 'string' ? value : null);

/**
 * Idempotency-Key for POST, PUT, PATCH and DELETE under /v1. The first request
 * with a key runs; its status and body (2xx and 4xx only: a 5xx may be
 * retried) are stored, keyed by principal subject + tenant + key, with a hash
 * of method, URL and body. A later request with the key gets the stored
 * answer and `Idempotent-Replayed: true` without running the handler; one
 * arriving while the first is in flight waits for it; the key with another
 * request is 422 NC_IDEMPOTENCY_KEY_REUSED. Waiting on an in-flight duplicate
 * works within one process (the embedded deployment).
 */
export const idempotency = fp<IdempotencyOptions>(
  async (app, { store, now = Date.now }) => {
    const inFlightByScope = new Map<string, InFlight>();
    const claims = new WeakMap<FastifyRequest, Claim>();
    let lastPurge = 0;

    const release = (request: FastifyRequest, answer: StoredAnswer | null): void => {
      const claim = claims.get(request);
      if (claim === undefined) return;
      claims.delete(request);
      if (inFlightByScope.get(claim.scopeKey) === claim.inFlight) inFlightByScope.delete(claim.scopeKey);
      claim.inFlight.finish(answer);
    };

    app.addHook('preHandler', async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (key === undefined || !METHODS.has(request.method) || !isProtected(request) || request.principal === null) return;
      if (!isIdempotencyKey(key)) {
        const message = 'must be 1 to 255 visible ASCII characters';
        throw new NovaCronError('NC_VALIDATION', `headers.idempotency-key ${message}`, {
          details: { location: 'headers', field: 'idempotency-key', errors: [{ field: 'idempotency-key', message }] },
        });
      }
      const scope: IdempotencyScope = { subject: request.principal.subject, tenantId: request.principal.tenantId, key };
      const scopeKey = JSON.stringify([scope.subject, scope.tenantId, key]);
      const hash = requestHash(request.method, request.url, request.body);
      for (;;) {
        const stored = store.find(scope, now());
        if (stored !== null) {
          if (stored.requestHash !== hash) throw reused(key);
          request.log.info({ idempotencyKey: key }, 'replaying the stored answer of an Idempotency-Key');
          return replay(reply, stored.answer);
        }
        const running = inFlightByScope.get(scopeKey);
        if (running === undefined) break;
        if (running.hash !== hash) throw reused(key);
        const answer = await running.done;
        if (answer !== null) {
          request.log.info({ idempotencyKey: key }, 'answering with the concurrent first request of an Idempotency-Key');
          return replay(reply, answer);
        }
        // The first one left nothing to replay (a 5xx): look again, then run.
      }
      const claim: Claim = { scope, scopeKey, hash, inFlight: inFlight(hash) };
      inFlightByScope.set(scopeKey, claim.inFlight);
      claims.set(request, claim);
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const claim = claims.get(request);
      if (claim === undefined) return payload;
      let answer: StoredAnswer | null = null;
      if (storable(reply.statusCode) && (typeof payload === 'string' || payload === undefined || payload === null)) {
        answer = {
          status: reply.statusCode,
          body: payload ?? '',
          contentType: headerText(reply.getHeader('content-type')),
          location: headerText(reply.getHeader('location')),
        };
        try {
          const at = now();
          store.save(claim.scope, { requestHash: claim.hash, answer }, at);
          if (at - lastPurge > PURGE_EVERY_MS) {
            lastPurge = at;
            store.purgeExpired(at);
          }
        } catch (error) {
          request.log.error({ err: error, idempotencyKey: claim.scope.key }, 'could not store the answer of an Idempotency-Key');
        }
      }
      release(request, answer);
      return payload;
    });

    // Whatever happened (an aborted request, an error in another onSend hook), never leave waiters hanging.
    app.addHook('onResponse', async (request) => release(request, null));
    app.addHook('onClose', async () => {
      for (const running of inFlightByScope.values()) running.finish(null);
      inFlightByScope.clear();
    });
  },
  { name: 'novacron-idempotency', dependencies: ['novacron-auth'] },
);
