/**
 * Pure translations between the EventStore port and EventStoreDB / KurrentDB
 * (expected revisions, errors, positions, stream metadata). Only types come
 * from the client, so these run and are tested without a server.
 */
import type { AppendStreamState, CurrentStreamState, Position, StreamState as EsdbDeleteState } from '@kurrent/kurrentdb-client';
import { NovaCronError } from '../../errors/index.ts';
import { expectationHolds, StreamDeletedError, WrongExpectedRevisionError } from '../errors.ts';
import type { ExpectedRevision, StreamMetadata } from '../port.ts';

/** Ours → ESDB's, for appends (`exists` is ESDB's `stream_exists`). */
export function toAppendState(expected: ExpectedRevision): AppendStreamState {
  switch (expected) {
    case 'any':
      return 'any';
    case 'no_stream':
      return 'no_stream';
    case 'exists':
      return 'stream_exists';
    default:
      return BigInt(expected);
  }
}

/**
 * Ours → ESDB's, for deletes and tombstones. ESDB's delete takes no
 * `stream_exists`: `exists` is checked by the adapter, which then deletes at
 * the revision it read (null here).
 */
export function toDeleteState(expected: ExpectedRevision): EsdbDeleteState | null {
  if (expected === 'exists') return null;
  const state = toAppendState(expected);
  return state === 'stream_exists' ? null : state;
}

/** ESDB's current revision of a stream (`no_stream` or a bigint) → ours. */
export function fromCurrentState(current: CurrentStreamState | undefined | null): number | 'no_stream' {
  if (current === undefined || current === null || current === 'no_stream') return 'no_stream';
  if (current < 0n) return 'no_stream';
  return toSafeNumber(current, 'stream revision');
}

/** Validates a caller's expected revision (the port's, not ESDB's). */
export function normalizeExpected(expected: unknown): ExpectedRevision {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'exists') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw new NovaCronError('NC_VALIDATION', `expectedRevision must be 'no_stream', 'exists', 'any' or a revision >= 0`, {
    details: { field: 'expectedRevision' },
  });
}

export function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new NovaCronError('NC_STORE_UNAVAILABLE', `the event store returned a ${what} (${value}) beyond 2^53`, { details: { value: String(value) } });
  }
  return Number(value);
}

/**
 * Positions. ESDB places every event at a byte offset of its transaction log:
 * `commit` and `prepare` are equal for every event written through gRPC (each
 * event is its own implicitly committed record), so our `position` is that
 * offset. It increases strictly along `$all`, but with gaps (the size of each
 * record, and the system records in between): it is NOT the 1, 2, 3… of the
 * SQLite store. 0 stays "before the first event": ESDB's log starts with an
 * epoch record, so no event sits at offset 0.
 */
export function fromEsdbPosition(position: Position | undefined): number {
  if (position === undefined) return 0;
  // The append answer gives (commit, prepare) of the write: the larger is the last event's record.
  const larger = position.commit > position.prepare ? position.commit : position.prepare;
  return larger <= 0n ? 0 : toSafeNumber(larger, 'log position');
}

export function toEsdbPosition(position: number): Position {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`position must be a safe integer >= 0, got ${position}`);
  return { commit: BigInt(position), prepare: BigInt(position) };
}

/** Where to start reading `$all` forwards to include position `from` and nothing before it. */
export type ForwardStart =
  | { kind: 'start' }
  | { kind: 'end' }
  /** Read from `at` (a record boundary, or a guess to be confirmed), dropping events before `from`. */
  | { kind: 'position'; at: number; from: number; alternative: number | null };

/**
 * Resolves an inclusive `fromPosition` for a forward read. ESDB refuses (or
 * misreads) a read from an offset that is not the start of a record, so a
 * read starts at a position the store handed out: `from` itself, or `from - 1`
 * (the usual `lastSeen + 1`), whichever is known; when neither is, `from`
 * first and `from - 1` as the alternative.
 */
export function forwardStart(fromPosition: number | 'start' | 'end' | undefined, known: (position: number) => boolean): ForwardStart {
  if (fromPosition === undefined || fromPosition === 'start') return { kind: 'start' };
  if (fromPosition === 'end') return { kind: 'end' };
  if (!Number.isSafeInteger(fromPosition) || fromPosition < 0) {
    throw new NovaCronError('NC_VALIDATION', 'fromPosition must be an integer >= 0, start or end', { details: { field: 'fromPosition' } });
  }
  if (fromPosition <= 1) return { kind: 'start' };
  if (known(fromPosition)) return { kind: 'position', at: fromPosition, from: fromPosition, alternative: null };
  if (known(fromPosition - 1)) return { kind: 'position', at: fromPosition - 1, from: fromPosition, alternative: null };
  return { kind: 'position', at: fromPosition, from: fromPosition, alternative: fromPosition - 1 };
}

const ERROR_TYPES_RETRIABLE = new Set(['unavailable', 'deadline-exceeded', 'timeout', 'not-leader', 'cancelled']);

/** The client's error kind (`error.type` of its CommandError classes), or undefined. */
export function esdbErrorType(error: unknown): string | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}

/** Errors after which the same call may succeed: the connection, the leader or a deadline, never the request. */
export const isTransientEsdbError = (error: unknown): boolean => ERROR_TYPES_RETRIABLE.has(esdbErrorType(error) ?? '');

export const isStreamNotFound = (error: unknown): boolean => esdbErrorType(error) === 'stream-not-found';

export const isStreamDeleted = (error: unknown): boolean => {
  const type = esdbErrorType(error);
  return type === 'stream-deleted' || type === 'stream-tombstoned';
};

/**
 * Maps a client error to ours. A wrong expected version carries the actual
 * revision. One case is not a conflict at all: ESDB answers "wrong expected
 * version" when part of the event ids of an append are already in the stream
 * (its "corrupted idempotency"); then the actual revision satisfies the
 * expectation, and that is how it is told apart from a real conflict.
 */
export function mapEsdbError(error: unknown, streamId: string, expected: ExpectedRevision, operation: string): Error {
  if (error instanceof NovaCronError) return error;
  const type = esdbErrorType(error);
  if (type === 'wrong-expected-version') {
    const actual = fromCurrentState((error as { actualState?: CurrentStreamState }).actualState);
    if (operation === 'append' && expectationHolds(expected, actual)) {
      return new NovaCronError('NC_IDEMPOTENCY_MISMATCH', `some event ids of this append are already stored in ${streamId}, in another place`, {
        details: { streamId },
        cause: error,
      });
    }
    return new WrongExpectedRevisionError(streamId, expected, actual);
  }
  if (type === 'stream-deleted' || type === 'stream-tombstoned') return new StreamDeletedError(streamId);
  if (type === 'maximum-append-size-exceeded' || type === 'append-record-size-exceeded') {
    return new NovaCronError('NC_EVENT_TOO_LARGE', `the event store refused the size of this append to ${streamId}`, { details: { streamId }, cause: error });
  }
  if (type === 'access-denied') {
    return new NovaCronError('NC_STORE_UNAVAILABLE', `the event store denied ${operation} on ${streamId}: check the credentials of NOVACRON_ESDB_URL`, {
      details: { streamId, operation },
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NovaCronError('NC_STORE_UNAVAILABLE', `event store ${operation} failed: ${message}`, {
    retriable: type === undefined || ERROR_TYPES_RETRIABLE.has(type),
    details: { streamId, operation, kind: type ?? null },
    cause: error,
  });
}

/**
 * Accepts ESDB's and KurrentDB's URL schemes. `esdb://` is rewritten to
 * `kurrentdb://` (the same format), which the client would otherwise warn
 * about on every start.
 */
export function normalizeConnectionString(connectionString: string): string {
  const trimmed = typeof connectionString === 'string' ? connectionString.trim() : '';
  const match = /^(esdb|kurrentdb|kurrent|kdb)(\+discover)?:\/\/(\S+)$/i.exec(trimmed);
  if (!match) {
    throw new TypeError('createEsdbEventStore: connectionString must look like esdb://host:2113?tls=false or kurrentdb://host:2113?tls=false');
  }
  const scheme = (match[1] as string).toLowerCase() === 'esdb' ? 'kurrentdb' : (match[1] as string).toLowerCase();
  return `${scheme}${(match[2] ?? '').toLowerCase()}://${match[3] as string}`;
}

/** ESDB writes this `$tb` (long.MaxValue) when it soft-deletes a stream; it reads back as an unsafe number. */
export const isSoftDeleteMarker = (truncateBefore: unknown): boolean =>
  typeof truncateBefore === 'number' && truncateBefore >= Number.MAX_SAFE_INTEGER;

/** Ours → the client's metadata (`maxAge` → `$maxAge`… is done by the client). `custom` stays nested, so it never meets ESDB's `$` keys. */
export function toEsdbMetadata(metadata: StreamMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (metadata.maxAge !== undefined) out.maxAge = metadata.maxAge;
  if (metadata.maxCount !== undefined) out.maxCount = metadata.maxCount;
  if (metadata.truncateBefore !== undefined) out.truncateBefore = metadata.truncateBefore;
  if (metadata.custom !== undefined) out.custom = metadata.custom;
  return out;
}

/** The client's metadata → ours; ESDB's own keys (ACL, cache control, the soft-delete marker) are left out. */
export function fromEsdbMetadata(metadata: Record<string, unknown> | undefined): StreamMetadata {
  const out: StreamMetadata = {};
  if (!metadata) return out;
  const int = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined);
  const maxAge = int(metadata.maxAge);
  const maxCount = int(metadata.maxCount);
  const truncateBefore = int(metadata.truncateBefore);
  if (maxAge !== undefined) out.maxAge = maxAge;
  if (maxCount !== undefined) out.maxCount = maxCount;
  if (truncateBefore !== undefined && !isSoftDeleteMarker(metadata.truncateBefore)) out.truncateBefore = truncateBefore;
  const custom = metadata.custom;
  if (custom !== null && typeof custom === 'object' && !Array.isArray(custom)) out.custom = custom as Record<string, unknown>;
  return out;
}

export function validateStreamMetadata(metadata: StreamMetadata): void {
  if (metadata === null || typeof metadata !== 'object') {
    throw new NovaCronError('NC_VALIDATION', 'stream metadata must be an object', { details: { field: 'metadata' } });
  }
  for (const field of ['maxAge', 'maxCount', 'truncateBefore'] as const) {
    const value = metadata[field];
    const min = field === 'truncateBefore' ? 0 : 1;
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      throw new NovaCronError('NC_VALIDATION', `stream metadata ${field} must be a ${min === 0 ? 'non-negative' : 'positive'} integer`, {
        details: { field },
      });
    }
  }
  if (metadata.custom !== undefined && (metadata.custom === null || typeof metadata.custom !== 'object' || Array.isArray(metadata.custom))) {
    throw new NovaCronError('NC_VALIDATION', 'stream metadata custom must be an object', { details: { field: 'custom' } });
  }
}
