import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../../commands/handling/context.ts';
import { actorOf } from '../auth/principal.ts';
import { principalOf } from '../auth/guards.ts';

/** The command context of a request: its principal as actor, its correlation id, its trace context. */
export function commandContext(request: FastifyRequest): CommandContext {
  const traceparent = request.headers.traceparent;
  return {
    actor: actorOf(principalOf(request)),
    correlationId: request.id,
    ...(typeof traceparent === 'string' && traceparent.length <= 55 ? { traceparent } : {}),
    now: new Date(),
  };
}
