/**
 * Record headers: everything of a RecordedEvent but its data, as UTF-8
 * strings, so consumers can route and filter without decoding the value.
 * Headers of null values (tenantId, causationId) and of an absent traceparent
 * are left out.
 */
import type { IHeaders } from 'kafkajs';
import { NovaCronError } from '../errors/index.ts';
import type { EventMetadata, RecordedEvent } from '../eventstore/port.ts';

export const EVENT_HEADERS = [
  'eventId',
  'type',
  'streamId',
  'revision',
  'position',
  'schemaVersion',
  'correlationId',
  'causationId',
  'tenantId',
  'actor',
  'occurredAt',
  'recordedAt',
  'traceparent',
] as const;

export type EventHeaders = Partial<Record<(typeof EVENT_HEADERS)[number], string>>;

export function toHeaders(event: RecordedEvent): EventHeaders {
  const { metadata } = event;
  const headers: EventHeaders = {
    eventId: metadata.eventId,
    type: event.type,
    streamId: event.streamId,
    revision: String(event.revision),
    position: String(event.position),
    schemaVersion: String(metadata.schemaVersion),
    correlationId: metadata.correlationId,
    actor: metadata.actor,
    occurredAt: metadata.occurredAt,
    recordedAt: event.recordedAt,
  };
  if (metadata.causationId !== null) headers.causationId = metadata.causationId;
  if (metadata.tenantId !== null) headers.tenantId = metadata.tenantId;
  if (metadata.traceparent !== undefined) headers.traceparent = metadata.traceparent;
  return headers;
}

/** One header as a string (kafkajs hands them over as Buffers), undefined when absent. */
export function headerOf(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const one = Array.isArray(value) ? value[value.length - 1] : value;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

const missing = (name: string) =>
  new NovaCronError('NC_VALIDATION', `Kafka record without a valid ${name} header: not written by the NovaCron relay`, { details: { header: name } });

function required(headers: IHeaders | undefined, name: string): string {
  const value = headerOf(headers, name);
  if (value === undefined || value === '') throw missing(name);
  return value;
}

function integer(headers: IHeaders | undefined, name: string, min: number): number {
  const value = Number(required(headers, name));
  if (!Number.isSafeInteger(value) || value < min) throw missing(name);
  return value;
}

/** The RecordedEvent of a record's headers, without its data. Throws NC_VALIDATION naming a missing header. */
export function fromHeaders(headers: IHeaders | undefined): Omit<RecordedEvent, 'data'> {
  const metadata: EventMetadata = {
    eventId: required(headers, 'eventId'),
    tenantId: headerOf(headers, 'tenantId') ?? null,
    correlationId: required(headers, 'correlationId'),
    causationId: headerOf(headers, 'causationId') ?? null,
    actor: required(headers, 'actor'),
    occurredAt: required(headers, 'occurredAt'),
    schemaVersion: integer(headers, 'schemaVersion', 1),
  };
  const traceparent = headerOf(headers, 'traceparent');
  if (traceparent !== undefined) metadata.traceparent = traceparent;
  return {
    streamId: required(headers, 'streamId'),
    revision: integer(headers, 'revision', 0),
    position: integer(headers, 'position', 1),
    type: required(headers, 'type'),
    metadata,
    recordedAt: required(headers, 'recordedAt'),
  };
}
