import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../../commands/handling/context.ts';
import { actorOf } from '../auth/principal.ts';
import { principalOf } from '../auth/guards.ts';
import { continueTrace } from '../../streams/eventstore/index.ts';

/** The command context of a request: its principal as actor, its correlation id, its trace context. */
export function commandContext(request: FastifyRequest): CommandContext {
  return {
    actor: actorOf(principalOf(request)),
    correlationId: request.id,
    // The caller's trace (a span of this command in it) when its traceparent is valid W3C, else a new trace.
    traceparent: continueTrace(request.headers.traceparent),
    now: new Date(),
  };
}
