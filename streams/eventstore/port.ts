/**
 * The event store port. The core (commands/, projections/, connectors/) only
 * ever sees this interface; adapters are factories (`createSqliteEventStore`,
 * later `createEsdbEventStore`) wired in one place and never imported by the
 * core. Semantics follow EventStoreDB's.
 */

/** Where a stream must be for an append (or delete) to go through. */
export type ExpectedRevision = 'no_stream' | 'exists' | 'any' | number;

/** Metadata recorded with every event. */
export interface EventMetadata {
  /** UUIDv7; appending the same ids again is an idempotent no-op. */
  eventId: string;
  /** Owner of the event; personal fields are encrypted with this tenant's key. */
  tenantId: string | null;
  correlationId: string;
  causationId: string | null;
  /** Who caused the event: `operator:<sub>`, `tenant:<id>:<sub>`, `system:<component>`. */
  actor: string;
  /** ISO-8601 instant, supplied by the caller (deciders never read a clock). */
  occurredAt: string;
  /** Version of the event's Avro schema the data was written with. */
  schemaVersion: number;
  /** W3C trace context, when the command carried one. */
  traceparent?: string;
}

/** Metadata a caller gives; the store fills what is missing. */
export type EventMetadataInput = Partial<Omit<EventMetadata, 'schemaVersion'>>;

export interface NewEvent<Type extends string = string, Data = Record<string, unknown>> {
  type: Type;
  data: Data;
  metadata?: EventMetadataInput;
}

export interface RecordedEvent<Type extends string = string, Data = Record<string, unknown>> {
  streamId: string;
  /** 0-based revision within the stream. */
  revision: number;
  /** Global position, strictly increasing, starting at 1, without gaps. */
  position: number;
  type: Type;
  data: Data;
  metadata: EventMetadata;
  /** When the store committed the event (ISO-8601). */
  recordedAt: string;
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event appended: the next expected revision. */
  revision: number;
  /** Global position of the last event appended. */
  position: number;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the first revision (forwards) or the last (backwards). */
  fromRevision?: number | 'start' | 'end';
  maxCount?: number;
}

export interface EventFilter {
  /** Stream categories (the part of the stream id before the first `-`). */
  categories?: readonly string[];
  eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive global position to start from; defaults to the first (forwards) or last (backwards). */
  fromPosition?: number | 'start' | 'end';
  maxCount?: number;
  filter?: EventFilter;
  /** true: `data` as stored, not decoded (see `SubscribeOptions.raw`). Default false. */
  raw?: boolean;
}

export interface SubscribeOptions {
  /** Exclusive: deliver events after this position. 0 (the default) means from the start. */
  afterPosition?: number;
  filter?: EventFilter;
  /** Events read from the store per page while catching up (memory bound). Default 256. */
  batchSize?: number;
  /**
   * true: `data` exactly as stored, not decoded: personal fields still encrypted,
   * in the shape of schema version `metadata.schemaVersion` (not upcast). For
   * connectors that forward events without reading them (the Kafka relay), so
   * personal data stays encrypted and crypto-shredding keeps working downstream.
   * Default false.
   */
  raw?: boolean;
}

/**
 * A catch-up subscription: reads history page by page, then hands over to live
 * events without a gap or a duplicate. It is pull-based: the store is read only
 * when the consumer asks for more, so a slow consumer holds at most one page.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  /** Position of the last event handed to the consumer (0 before any). */
  readonly position: number;
  /** Events read from the store but not yet handed to the consumer (at most one page). */
  readonly buffered: number;
  /**
   * Hands over, at once, up to `max` of the buffered events: the ones the
   * iterator's next() would deliver one by one, without reading the store. For
   * consumers that take events in batches (the processor runner); optional.
   */
  takeBuffered?(max: number): RecordedEvent[];
  /** Ends the iteration; a pending `next()` resolves as done. */
  stop(): Promise<void>;
}

export interface StreamMetadata {
  /** Events older than this many seconds are not returned by stream reads. */
  maxAge?: number;
  /** Only the last `maxCount` events of the stream are returned by stream reads. */
  maxCount?: number;
  /** Events with a lower revision are not returned by stream reads. */
  truncateBefore?: number;
  /** Free-form user metadata. */
  custom?: Record<string, unknown>;
}

export type StreamStatus = 'none' | 'live' | 'soft_deleted' | 'tombstoned';

export interface StreamState {
  status: StreamStatus;
  /** Revision of the last event ever written to the stream (-1 if none). */
  lastRevision: number;
}

export interface Snapshot<State = unknown> {
  /** Revision of the last event folded into `state`. */
  revision: number;
  /** Version of the state's shape; a loader ignores snapshots of another version. */
  version: number;
  state: State;
}

export interface EventStore {
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Events of one stream; [] when the stream does not exist or is soft-deleted. Throws on a tombstoned stream. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  streamState(streamId: string): Promise<StreamState>;
  getStreamMetadata(streamId: string): Promise<StreamMetadata>;
  setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void>;
  /** Soft delete: the stream reads as absent; appending recreates it and continues its revisions. */
  deleteStream(streamId: string, options?: AppendOptions): Promise<void>;
  /** Hard delete: the stream can never be written or read again. */
  tombstoneStream(streamId: string, options?: AppendOptions): Promise<void>;
  readSnapshot<State>(streamId: string): Promise<Snapshot<State> | null>;
  writeSnapshot<State>(streamId: string, snapshot: Snapshot<State>): Promise<void>;
  /** Position of the last event in the log (0 when empty). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

/**
 * How event data is turned into what is stored and back: schema validation,
 * upcasting of old versions, encryption of personal fields. Synchronous, so
 * the store can run it inside a group commit.
 */
export interface EventCodec {
  /** Validates `data` against the current schema of `type` and prepares it for storage (encrypts personal fields). */
  encode(type: string, data: unknown, tenantId: string | null): { data: Record<string, unknown>; schemaVersion: number };
  /** Turns stored data back into the current shape: decrypts (or redacts) personal fields, upcasts old versions. */
  decode(type: string, data: Record<string, unknown>, schemaVersion: number, tenantId: string | null): Record<string, unknown>;
  /**
   * Stored data for a raw read (`raw: true`, what connectors forward): the shape of
   * `schemaVersion`, personal fields encrypted. A personal field stored in plaintext
   * (written before encryption, or by a version that did not mark it personal) is
   * encrypted now, or REDACTED once the tenant's key is destroyed: no raw reader
   * (the Kafka relay, the analytics sink) ever carries plaintext personal data.
   */
  seal(type: string, data: Record<string, unknown>, schemaVersion: number, tenantId: string | null): Record<string, unknown>;
}
