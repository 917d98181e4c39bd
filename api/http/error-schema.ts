import { Type, type Static } from 'typebox';
import { errorCatalog } from '../../streams/errors/index.ts';

/** `{ error: { code, message, details? } }`: the body of every failure the API answers. */
const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code (NC_…); the README lists them all.', examples: ['NC_VALIDATION'] }),
    message: Type.String({ description: 'What went wrong, for humans; may change between versions.' }),
    details: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'Machine-readable context; NC_VALIDATION names the field.' }),
    ),
  },
  { additionalProperties: false },
);

export const ErrorResponse = Type.Object({ error: ErrorBody }, { additionalProperties: false, title: 'ErrorResponse' });
export type ErrorResponse = Static<typeof ErrorResponse>;

/** HTTP statuses the catalog uses: the ones a route may declare. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 410 | 413 | 415 | 422 | 429 | 431 | 500 | 503;

function describe(status: number): string {
  const codes = Object.entries(errorCatalog)
    .filter(([, entry]) => entry.status === status)
    .map(([code]) => code);
  return codes.length > 0 ? `Error: ${codes.join(', ')}` : 'Error';
}

/**
 * The error responses of a route, one `ErrorResponse` per status, each
 * described by the catalog codes answered with it. 500 (NC_INTERNAL) is always
 * included: any route can fail unexpectedly.
 *
 *   schema: { response: { 201: Created, ...errorResponses(400, 401, 403, 404, 409) } }
 */
export function errorResponses<const S extends ErrorStatus>(...statuses: S[]): Record<S | 500, typeof ErrorResponse> {
  const responses: Partial<Record<ErrorStatus, typeof ErrorResponse>> = {};
  for (const status of [...statuses, 500 as const]) {
    responses[status] = Type.Object({ error: ErrorBody }, { additionalProperties: false, description: describe(status) });
  }
  return responses as Record<S | 500, typeof ErrorResponse>;
}
