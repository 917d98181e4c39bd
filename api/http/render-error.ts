import type { FastifyError } from 'fastify';
import { errorCatalog, isNovaCronError, type ErrorCode } from '../../streams/errors/index.ts';
import type { ErrorResponse } from './error-schema.ts';
import { validationDetails, validationMessage } from './validation-details.ts';

/** How one failure is answered: status, headers and `{ error: { code, message, details? } }`. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: ErrorResponse;
  /** 'error' for a server fault (log it with its stack), 'info' for the client's mistake. */
  severity: 'info' | 'error';
}

/** Seconds a client should wait before retrying a 503 or 429 when the error does not say. */
const DEFAULT_RETRY_AFTER = { 503: 5, 429: 1 } as const;

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'NC_MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'NC_MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'NC_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'NC_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'NC_BAD_REQUEST',
  FST_ERR_BAD_URL: 'NC_BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'NC_BAD_REQUEST',
  FST_ERR_NOT_FOUND: 'NC_ROUTE_NOT_FOUND',
};

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  NC_MALFORMED_JSON: 'the body is not valid JSON',
  NC_PAYLOAD_TOO_LARGE: 'the body is larger than 1 MiB',
  NC_UNSUPPORTED_MEDIA_TYPE: 'send the body as application/json',
};

/** For other client errors (a plugin's 4xx), the catalog code of their status. */
const BY_STATUS: Record<number, ErrorCode> = {
  400: 'NC_BAD_REQUEST',
  401: 'NC_UNAUTHENTICATED',
  403: 'NC_FORBIDDEN',
  404: 'NC_ROUTE_NOT_FOUND',
  408: 'NC_REQUEST_TIMEOUT',
  413: 'NC_PAYLOAD_TOO_LARGE',
  415: 'NC_UNSUPPORTED_MEDIA_TYPE',
  431: 'NC_HEADERS_TOO_LARGE',
};

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof Reflect.get(error, 'code') === 'string';
}

function statusOf(error: unknown): number | undefined {
  const status = error instanceof Error ? Reflect.get(error, 'statusCode') : undefined;
  return typeof status === 'number' ? status : undefined;
}

function rendered(code: ErrorCode, message: string, details?: Record<string, unknown>): RenderedError {
  const status: number = errorCatalog[code].status;
  const headers: Record<string, string> = {};
  if (status === 503 || status === 429) {
    const hinted = details?.retryAfterSeconds;
    headers['retry-after'] = String(typeof hinted === 'number' && hinted > 0 ? Math.ceil(hinted) : DEFAULT_RETRY_AFTER[status]);
  }
  if (code === 'NC_UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer realm="novacron"';
  if (code === 'NC_SHUTTING_DOWN') headers.connection = 'close';
  const error: ErrorResponse['error'] = details === undefined ? { code, message } : { code, message, details };
  return { status, headers, body: { error }, severity: status >= 500 ? 'error' : 'info' };
}

/**
 * Maps any failure to its answer: NovaCronError by its catalog status,
 * Fastify's validation and body-parsing errors to 400/413/415, other client
 * errors by status, everything else to a generic 500 NC_INTERNAL (whose
 * message names only the correlation id; the cause goes to the log).
 */
export function renderError(error: unknown, correlationId: string): RenderedError {
  if (isNovaCronError(error)) return rendered(error.code, error.message, error.details);
  if (isFastifyError(error)) {
    if (error.validation !== undefined) {
      const details = validationDetails(error.validationContext ?? 'request', error.validation);
      return rendered('NC_VALIDATION', validationMessage(details), { ...details });
    }
    const code = FASTIFY_CODES[error.code];
    if (code !== undefined) return rendered(code, MESSAGES[code] ?? error.message);
  }
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    const code = BY_STATUS[status] ?? 'NC_BAD_REQUEST';
    return rendered(code, error instanceof Error ? error.message : 'bad request');
  }
  return rendered('NC_INTERNAL', `internal error; the server log has the cause under correlation id ${correlationId}`);
}
