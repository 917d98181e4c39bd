import { errorCatalog, type ErrorCode } from './catalog.ts';

export interface NovaCronErrorOptions {
  details?: Record<string, unknown>;
  /** True when the same call may succeed if tried again later (infrastructure hiccups). */
  retriable?: boolean;
  cause?: unknown;
}

/** Base of every error NovaCron raises on purpose. */
export class NovaCronError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: NovaCronErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
    this.retriable = options.retriable ?? false;
  }

  get status(): number {
    return errorCatalog[this.code].status;
  }
}

export const isNovaCronError = (error: unknown, code?: ErrorCode): error is NovaCronError =>
  error instanceof NovaCronError && (code === undefined || error.code === code);
