import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';

/**
 * The `preValidation` hook of a route whose body is optional
 * (`body: Type.Optional(…)`): Fastify validates a missing body as `null`,
 * which the object schema refuses, so a request without a body is taken as `{}`.
 * (A body sent as JSON `null` is still refused.)
 */
export async function optionalBody(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

/** The body of a route that takes none: absent or `{}` (with `preValidation: optionalBody`); anything else is 400 NC_VALIDATION. */
export const NoBody = Type.Optional(Type.Object({}, { additionalProperties: false, description: 'No body, or `{}`.' }));
