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
  #decode: DecodeData;
  /** The stored JSON until it is decoded, then dropped: a batch keeps its events until it is committed, not their text. */
  #dataJson: string | undefined;
  #data: Record<string, unknown> | undefined;
  #metadataJson: string | undefined;
  #metadata: EventMetadata | undefined;
  #recordedAtMs: number;
  #recordedAt: string | undefined;

  constructor(row: EventRow, decode: DecodeData) {
    this.position = row[0];
    this.streamId = row[1];
    this.revision = row[2];
    this.type = row[3];
    this.#dataJson = row[4];
    this.#metadataJson = row[5];
    this.#recordedAtMs = row[6];
    this.#decode = decode;
  }

  get metadata(): EventMetadata {
    if (this.#metadata === undefined) {
      // Written by the store from an EventMetadata.
      this.#metadata = JSON.parse(this.#metadataJson as string) as EventMetadata;
      this.#metadataJson = undefined;
    }
    return this.#metadata;
  }

  set metadata(value: EventMetadata) {
    this.#metadata = value;
    this.#metadataJson = undefined;
  }

  get data(): Record<string, unknown> {
    if (this.#data === undefined) {
      this.#data = this.#decode(this.type, this.#dataJson as string, this.metadata);
      this.#dataJson = undefined;
    }
    return this.#data;
  }

  set data(value: Record<string, unknown>) {
    this.#data = value;
    this.#dataJson = undefined;
  }

  get recordedAt(): string {
    return (this.#recordedAt ??= new Date(this.#recordedAtMs).toISOString());
  }

  set recordedAt(value: string) {
    this.#recordedAt = value;
  }

  toJSON(): RecordedEvent {
    const { streamId, revision, position, type, data, metadata, recordedAt } = this;
    return { streamId, revision, position, type, data, metadata, recordedAt };
  }
}
