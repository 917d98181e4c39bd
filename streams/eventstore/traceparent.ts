import { randomBytes } from 'node:crypto';

/** A W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header), parsed. */
export interface TraceContext {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
}

// version-traceid-parentid-flags, lower-case hex; a later version may append fields after a dash.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^\s]*)?$/;
const ALL_ZERO = /^0+$/;

/** The trace context of a `traceparent` value, or null when it is not one the W3C format allows. */
export function parseTraceparent(value: unknown): TraceContext | null {
  if (typeof value !== 'string' || value.length > 512) return null;
  const match = TRACEPARENT.exec(value);
  if (!match) return null;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff') return null; // forbidden version
  if (version === '00' && rest !== undefined) return null; // version 00 is exactly 55 characters
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return null;
  return { version, traceId, parentId, flags };
}

export const isTraceparent = (value: unknown): value is string => parseTraceparent(value) !== null;

const spanId = (): string => {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (!ALL_ZERO.test(id)) return id;
  }
};

const newTraceId = (): string => {
  for (;;) {
    const id = randomBytes(16).toString('hex');
    if (!ALL_ZERO.test(id)) return id;
  }
};

/** A new trace: a random trace id and span id, not sampled (NovaCron records no spans of its own). */
export const newTraceparent = (): string => `00-${newTraceId()}-${spanId()}-00`;

/**
 * The trace context of a command: a span of its own (a new parent id) in the caller's
 * trace when `incoming` is a valid traceparent (its trace id and flags are kept, in
 * version 00), else a new trace. An invalid value is ignored, never passed on.
 */
export function continueTrace(incoming: unknown): string {
  const parent = parseTraceparent(incoming);
  return parent ? `00-${parent.traceId}-${spanId()}-${parent.flags}` : newTraceparent();
}
