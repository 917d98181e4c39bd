import type { EventMetadata, RecordedEvent } from '../port.ts';

/** The columns the store selects to read events, in the order of EventRow. */
export const EVENT_COLUMNS = 'position, stream_id, revision, type, data, metadata, recorded_at';

/** A row of the events table, as the store selects it (EVENT_COLUMNS, read as an array: cheaper than a named row). */
export type EventRow = [position: number, streamId: string, revision: number, type: string, data: string, metadata: string, recordedAt: number];

/** Turns a row's stored data into the event's data (parse, decrypt, upcast), given its metadata. */
export type DecodeData = (type: string, data: string, metadata: EventMetadata) => Record<string, unknown>;

/**
 * A recorded event read from SQLite. `metadata`, `data` and `recordedAt` are
 * decoded on first access, so a reader that skips an event (a processor that
 * does not handle its type) pays for none of it. They are getters on the
 * prototype, shared by every event, rather than properties defined on each
 * one: defining accessors per object costs microseconds and gives each event
 * its own hidden class, which slows every reader of it.
 *
 * They are therefore not own properties: `JSON.stringify` sees them (toJSON),
 * `{ ...event }` and `Object.keys` do not — name the fields to copy an event.
 */
export class StoredEvent implements RecordedEvent {
  streamId: string;
  revision: number;
  position: number;
  type: string;
  #row: EventRow;
  #decode: DecodeData;
  #metadata: EventMetadata | undefined;
  #data: Record<string, unknown> | undefined;
  #recordedAt: string | undefined;

  constructor(row: EventRow, decode: DecodeData) {
    this.position = row[0];
    this.streamId = row[1];
    this.revision = row[2];
    this.type = row[3];
    this.#row = row;
    this.#decode = decode;
  }

  get metadata(): EventMetadata {
    // Written by the store from an EventMetadata.
    return (this.#metadata ??= JSON.parse(this.#row[5]) as EventMetadata);
  }

  set metadata(value: EventMetadata) {
    this.#metadata = value;
  }

  get data(): Record<string, unknown> {
    return (this.#data ??= this.#decode(this.type, this.#row[4], this.metadata));
  }

  set data(value: Record<string, unknown>) {
    this.#data = value;
  }

  get recordedAt(): string {
    return (this.#recordedAt ??= new Date(this.#row[6]).toISOString());
  }

  set recordedAt(value: string) {
    this.#recordedAt = value;
  }

  toJSON(): RecordedEvent {
    const { streamId, revision, position, type, data, metadata, recordedAt } = this;
    return { streamId, revision, position, type, data, metadata, recordedAt };
  }
}
