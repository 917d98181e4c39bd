import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7, validate as uuidValidate, version as uuidVersion } from 'uuid';
import { NovaCronError } from '../errors/index.ts';
import type { EventMetadata, NewEvent } from './port.ts';
import { isTraceparent, newTraceparent } from './traceparent.ts';

/** Largest event (stored data plus metadata, as UTF-8 JSON) the store accepts. */
export const MAX_EVENT_BYTES = 1024 * 1024;

/**
 * Random bytes for ids, drawn from a pool refilled 4 KiB at a time: uuid's own
 * rng asks the OS for 16 bytes per id, which showed as ~4% of the API's CPU
 * (every request gets a correlation id). Same CSPRNG, fewer calls.
 */
const pool = new Uint8Array(4096);
let taken = pool.length;
const pooledRandom = (): Uint8Array => {
  if (taken + 16 > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  taken += 16;
  return pool.slice(taken - 16, taken);
};

/** Monotonic within a millisecond, as uuid's own v7 state is (which it keeps only when given no options). */
const clock = { msecs: -Infinity, seq: 0 };

export const newEventId = (): string => {
  const random = pooledRandom();
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq });
};

export const isEventId = (value: unknown): value is string =>
  typeof value === 'string' && uuidValidate(value) && uuidVersion(value) === 7;

/** Completes a caller's metadata with defaults; schemaVersion is set by the codec. */
export function completeMetadata(event: NewEvent, now: Date): Omit<EventMetadata, 'schemaVersion'> {
  if (event === null || typeof event !== 'object' || typeof event.type !== 'string') {
    throw new NovaCronError('NC_VALIDATION', 'an event must be an object with a string type', { details: { field: 'type' } });
  }
  const input = event.metadata ?? {};
  const eventId = input.eventId ?? newEventId();
  if (!isEventId(eventId)) {
    throw new NovaCronError('NC_VALIDATION', `metadata.eventId must be a UUIDv7, got ${JSON.stringify(eventId)}`, {
      details: { field: 'metadata.eventId' },
    });
  }
  const metadata: Omit<EventMetadata, 'schemaVersion'> = {
    eventId,
    tenantId: input.tenantId ?? null,
    correlationId: input.correlationId ?? eventId,
    causationId: input.causationId ?? null,
    actor: input.actor ?? 'system',
    occurredAt: input.occurredAt ?? now.toISOString(),
  };
  // Every event carries a valid W3C trace context: the caller's, or a new trace when it gave none or an invalid one (never stored).
  metadata.traceparent = isTraceparent(input.traceparent) ? input.traceparent : newTraceparent();
  for (const [field, value] of Object.entries(metadata)) {
    if (value !== null && typeof value !== 'string') {
      throw new NovaCronError('NC_VALIDATION', `metadata.${field} must be a string`, { details: { field: `metadata.${field}` } });
    }
  }
  if (Number.isNaN(Date.parse(metadata.occurredAt))) {
    throw new NovaCronError('NC_VALIDATION', 'metadata.occurredAt must be an ISO-8601 instant', {
      details: { field: 'metadata.occurredAt' },
    });
  }
  return metadata;
}

export function assertEventSize(type: string, dataJson: string, metadataJson: string): void {
  const bytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
  if (bytes > MAX_EVENT_BYTES) {
    throw new NovaCronError('NC_EVENT_TOO_LARGE', `event ${type} is ${bytes} bytes; the limit is ${MAX_EVENT_BYTES}`, {
      details: { type, bytes, limit: MAX_EVENT_BYTES },
    });
  }
}
