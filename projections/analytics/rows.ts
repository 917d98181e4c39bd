/** The fact table's row of an event: pure, one row per event, keyed by its stream and revision. */
import { categoryOf, type RecordedEvent } from '../../streams/eventstore/index.ts';
import { secondsOf } from './model.ts';

export interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  category: string;
  type: string;
  event_id: string;
  tenant_id: string;
  correlation_id: string;
  causation_id: string;
  actor: string;
  /** Unix seconds (DateTime has no sub-second part on 18.16). */
  occurred_at: number;
  recorded_at: number;
  schema_version: number;
  /** The event's data as JSON: current schema shape, personal fields as stored (encrypted). */
  data: string;
}

/** The row id the batch writer collapses duplicates by (the table's key collapses them in ClickHouse). */
export const eventRowId = (event: RecordedEvent): string => `${event.streamId}@${event.revision}`;

export function eventRow(event: RecordedEvent): EventRow {
  const m = event.metadata;
  return {
    position: event.position,
    stream_id: event.streamId,
    revision: event.revision,
    category: categoryOf(event.streamId),
    type: event.type,
    event_id: m.eventId,
    tenant_id: m.tenantId ?? '',
    correlation_id: m.correlationId,
    causation_id: m.causationId ?? '',
    actor: m.actor,
    occurred_at: secondsOf(m.occurredAt),
    recorded_at: secondsOf(event.recordedAt),
    schema_version: m.schemaVersion,
    data: JSON.stringify(event.data),
  };
}
