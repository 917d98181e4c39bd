import type { IncomingMessage } from 'node:http';
import { newEventId } from '../../streams/eventstore/index.ts';

export const CORRELATION_HEADER = 'x-correlation-id';

/** What a client may send as a correlation id: 1 to 128 characters of `A-Za-z0-9._:@-` (nothing that could forge a log line). */
const ACCEPTED = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Fastify's `genReqId`: the request id is the correlation id, the caller's
 * X-Correlation-Id when it is acceptable, otherwise a new UUIDv7. It is logged
 * with every line of the request (`correlationId`) and echoed in the answer.
 */
export function correlationId(request: IncomingMessage): string {
  const sent = request.headers[CORRELATION_HEADER];
  return typeof sent === 'string' && ACCEPTED.test(sent) ? sent : newEventId();
}
