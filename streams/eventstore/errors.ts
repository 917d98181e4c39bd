import { NovaCronError } from '../errors/index.ts';
import type { ExpectedRevision } from './port.ts';

/** The stream is not where the append (or delete) expected it to be. The only error a command handler retries. */
export class WrongExpectedRevisionError extends NovaCronError {
  readonly streamId: string;
  readonly expectedRevision: ExpectedRevision;
  /** Revision of the stream's last event, or 'no_stream'. */
  readonly actualRevision: number | 'no_stream';

  constructor(streamId: string, expectedRevision: ExpectedRevision, actualRevision: number | 'no_stream') {
    super(
      'NC_REVISION_CONFLICT',
      `stream ${streamId} is at revision ${actualRevision}, expected ${expectedRevision}`,
      { details: { streamId, expectedRevision, actualRevision } },
    );
    this.streamId = streamId;
    this.expectedRevision = expectedRevision;
    this.actualRevision = actualRevision;
  }
}

/** The stream was tombstoned: never written or read again. */
export class StreamDeletedError extends NovaCronError {
  readonly streamId: string;

  constructor(streamId: string) {
    super('NC_STREAM_DELETED', `stream ${streamId} was permanently deleted`, { details: { streamId } });
    this.streamId = streamId;
  }
}

export const isWrongExpectedRevision = (error: unknown): error is WrongExpectedRevisionError =>
  error instanceof WrongExpectedRevisionError;

/** Checks an expectation against a stream's current revision ('no_stream' when absent or soft-deleted). */
export function expectationHolds(expected: ExpectedRevision, current: number | 'no_stream'): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 'no_stream';
    case 'exists':
      return current !== 'no_stream';
    default:
      return current === expected;
  }
}
