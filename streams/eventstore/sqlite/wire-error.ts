import { NovaCronError, type ErrorCode } from '../../errors/index.ts';
import { StreamDeletedError, WrongExpectedRevisionError } from '../errors.ts';
import type { ExpectedRevision } from '../port.ts';

/** A NovaCronError as the writer worker posts it back: plain data, rebuilt into the same class by `reviveError`. */
export interface WireError {
  name: string;
  code: ErrorCode;
  message: string;
  details: Record<string, unknown> | undefined;
  retriable: boolean;
}

export const toWireError = (error: NovaCronError): WireError => ({
  name: error.name,
  code: error.code,
  message: error.message,
  details: error.details,
  retriable: error.retriable,
});

/** The error the worker raised, as the same class with the same code, message and details. */
export function reviveError(wire: WireError): NovaCronError {
  const details = wire.details ?? {};
  if (wire.name === 'WrongExpectedRevisionError') {
    return new WrongExpectedRevisionError(
      String(details.streamId),
      details.expectedRevision as ExpectedRevision,
      details.actualRevision as number | 'no_stream',
    );
  }
  if (wire.name === 'StreamDeletedError') return new StreamDeletedError(String(details.streamId));
  return new NovaCronError(wire.code, wire.message, { details: wire.details, retriable: wire.retriable });
}
