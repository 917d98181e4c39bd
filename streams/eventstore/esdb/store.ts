/**
 * The EventStore port on EventStoreDB / KurrentDB (`@kurrent/kurrentdb-client`,
 * gRPC). The port was drawn after ESDB's semantics, so most calls map one to
 * one; where they differ, the adapter does the rest:
 *
 * - Positions are ESDB's log positions (byte offsets): strictly increasing
 *   along `$all`, with gaps (see `fromEsdbPosition`).
 * - Idempotent retries: ESDB deduplicates exact and `no_stream` appends; for
 *   `any` and `exists` the tail of the stream is read first and the append's
 *   event ids looked for there (see replay.ts). Event ids are only unique per stream: the
 *   same ids appended to another stream are stored there too.
 * - The global log shows NovaCron's streams only (no `$` system streams, no
 *   snapshot streams), filtered on the server by category or event type.
 * - Snapshots live in a companion stream `snapshot-<streamId>` (maxCount 1).
 */
import { createRequire } from 'node:module';
import type {
  AllStreamResolvedEvent,
  AppendResult as EsdbAppendResult,
  JSONEventData,
  KurrentDBClient,
  ReadPosition,
  ReadRevision,
  ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { NovaCronError } from '../../errors/index.ts';
import { expectationHolds, StreamDeletedError, WrongExpectedRevisionError } from '../errors.ts';
import { assertEventSize, completeMetadata, newEventId } from '../new-event.ts';
import type {
  AppendOptions,
  AppendResult,
  EventCodec,
  EventMetadata,
  EventStore,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  Snapshot,
  StreamMetadata,
  StreamState,
  SubscribeOptions,
  Subscription,
} from '../port.ts';
import { parseStreamId } from '../stream-id.ts';
import { EVERYTHING, planFilter, SNAPSHOT_CATEGORY, SNAPSHOT_EVENT_TYPE, snapshotStreamOf, type FilterPlan } from './filter.ts';
import {
  forwardStart,
  fromEsdbMetadata,
  fromEsdbPosition,
  esdbErrorType,
  isSoftDeleteMarker,
  isStreamDeleted,
  isStreamNotFound,
  isTransientEsdbError,
  mapEsdbError,
  normalizeConnectionString,
  normalizeExpected,
  toAppendState,
  toDeleteState,
  toEsdbMetadata,
  toEsdbPosition,
  toSafeNumber,
  validateStreamMetadata,
} from './mapping.ts';
import { locateReplay, type StoredRef } from './replay.ts';
import { createEsdbSubscription } from './subscription.ts';

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false` (or `kurrentdb://…`; `+discover` for a cluster). */
  connectionString: string;
  /** Validation, upcasting and encryption of event data, as in the SQLite store. */
  codec: EventCodec;
  /**
   * Events at the end of a stream searched for an append's event ids before
   * an append with `any` or `exists` is sent (idempotent retries; see
   * replay.ts). 0 leaves deduplication to ESDB alone. Default 64.
   */
  idempotencyWindow?: number;
  /** Tries of an append that failed on the connection, the leader or a deadline (each retry is idempotent). Default 4. */
  appendAttempts?: number;
  /** Most events asked of the server per read of the global log. Default 4096. */
  readBatchSize?: number;
  now?: () => Date;
  /** For tests: a client instead of one made from the connection string. */
  client?: KurrentDBClient;
}

/**
 * The client is loaded when an ESDB store is made, not when this module is
 * imported: with its native bridge it takes ~0.2 s to load, which the embedded
 * default (and every test that opens the platform) should not pay.
 */
function connect(connectionString: string): KurrentDBClient {
  const require = createRequire(import.meta.url);
  const { KurrentDBClient: Client } = require('@kurrent/kurrentdb-client') as typeof import('@kurrent/kurrentdb-client');
  return Client.connectionString(connectionString);
}

/** Positions handed out recently: reads may start exactly there (ESDB only reads from the start of a record). */
const KNOWN_POSITIONS = 16_384;
/** An expected revision no stream reaches: an empty append with it fails and tells the stream's last revision. */
const PROBE_REVISION = 2n ** 62n;

interface PreparedEvent {
  id: string;
  data: JSONEventData;
}

type AnyRecorded = NonNullable<ResolvedEvent['event']>;

export function createEsdbEventStore({
  connectionString,
  codec,
  idempotencyWindow = 64,
  appendAttempts = 4,
  readBatchSize = 4096,
  now = () => new Date(),
  client: given,
}: EsdbEventStoreOptions): EventStore {
  if (codec === undefined || codec === null) throw new TypeError('createEsdbEventStore: codec is required');
  if (!Number.isInteger(idempotencyWindow) || idempotencyWindow < 0) throw new TypeError('createEsdbEventStore: idempotencyWindow must be an integer >= 0');
  if (!Number.isInteger(appendAttempts) || appendAttempts < 1) throw new TypeError('createEsdbEventStore: appendAttempts must be a positive integer');
  if (!Number.isInteger(readBatchSize) || readBatchSize < 1) throw new TypeError('createEsdbEventStore: readBatchSize must be a positive integer');
  const client = given ?? connect(normalizeConnectionString(connectionString));

  let closed = false;
  const subscriptions = new Set<Subscription>();
  const known = new Map<number, true>();

  const assertOpen = (): void => {
    if (closed) throw new NovaCronError('NC_STORE_CLOSED', 'the event store is closed', { retriable: true });
  };

  function remember(position: number): void {
    if (position <= 0 || known.has(position)) return;
    known.set(position, true);
    if (known.size > KNOWN_POSITIONS) known.delete(known.keys().next().value as number);
  }

  function streamOf(streamId: string): string {
    const { category } = parseStreamId(streamId);
    if (category === SNAPSHOT_CATEGORY) {
      throw new NovaCronError('NC_STREAM_ID_INVALID', `invalid stream id ${JSON.stringify(streamId)}: the category ${SNAPSHOT_CATEGORY} is reserved for snapshots`, {
        details: { streamId, reason: `category ${SNAPSHOT_CATEGORY} is reserved` },
      });
    }
    return streamId;
  }

  /** Our metadata, from what is stored with the event (the ESDB `$correlationId`/`$causationId` copies left out). */
  function metadataOf(event: AnyRecorded): EventMetadata {
    const stored = (event.metadata !== null && typeof event.metadata === 'object' && !(event.metadata instanceof Uint8Array)
      ? event.metadata
      : {}) as Partial<EventMetadata> & Record<string, unknown>;
    const metadata: EventMetadata = {
      eventId: typeof stored.eventId === 'string' ? stored.eventId : event.id,
      tenantId: typeof stored.tenantId === 'string' ? stored.tenantId : null,
      correlationId: typeof stored.correlationId === 'string' ? stored.correlationId : event.id,
      causationId: typeof stored.causationId === 'string' ? stored.causationId : null,
      actor: typeof stored.actor === 'string' ? stored.actor : 'system',
      occurredAt: typeof stored.occurredAt === 'string' ? stored.occurredAt : event.created.toISOString(),
      schemaVersion: typeof stored.schemaVersion === 'number' ? stored.schemaVersion : 1,
    };
    if (typeof stored.traceparent === 'string') metadata.traceparent = stored.traceparent;
    return metadata;
  }

  /** Event data is decoded (parsed, decrypted, upcast) on first access, as in the SQLite store. */
  function toRecorded(event: AnyRecorded, raw = false): RecordedEvent {
    const metadata = metadataOf(event);
    const position = fromEsdbPosition(event.position);
    remember(position);
    const stored = (event.data !== null && typeof event.data === 'object' && !(event.data instanceof Uint8Array) ? event.data : {}) as Record<string, unknown>;
    let data: Record<string, unknown> | undefined;
    const recorded = {
      streamId: event.streamId,
      revision: toSafeNumber(event.revision, 'stream revision'),
      position,
      type: event.type,
      metadata,
      recordedAt: event.created.toISOString(),
    } as RecordedEvent;
    Object.defineProperty(recorded, 'data', {
      enumerable: true,
      get: () =>
        (data ??= raw
          ? codec.seal(event.type, stored, metadata.schemaVersion, metadata.tenantId)
          : codec.decode(event.type, stored, metadata.schemaVersion, metadata.tenantId)),
      set: (value: Record<string, unknown>) => {
        data = value;
      },
    });
    return recorded;
  }

  function prepareEvents(streamId: string, events: readonly NewEvent[]): PreparedEvent[] {
    if (!Array.isArray(events)) throw new NovaCronError('NC_VALIDATION', 'events must be an array', { details: { field: 'events' } });
    const clock = now();
    const seen = new Set<string>();
    return events.map((event) => {
      const metadata = completeMetadata(event, clock);
      const id = metadata.eventId.toLowerCase();
      if (seen.has(id)) {
        throw new NovaCronError('NC_VALIDATION', `event id ${metadata.eventId} appears twice in one append`, {
          details: { field: 'metadata.eventId', streamId },
        });
      }
      seen.add(id);
      const encoded = codec.encode(event.type, event.data, metadata.tenantId);
      const full: EventMetadata = { ...metadata, schemaVersion: encoded.schemaVersion };
      assertEventSize(event.type, JSON.stringify(encoded.data), JSON.stringify(full));
      // ESDB's own system projections ($by-correlation-id) read these two.
      const stored = { ...full, $correlationId: full.correlationId, $causationId: full.causationId ?? full.eventId };
      return { id, data: { id, contentType: 'application/json', type: event.type, data: encoded.data, metadata: stored } };
    });
  }

  async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of iterable) out.push(item);
    return out;
  }

  /** Raw events of one stream; [] when it does not exist or is soft-deleted; StreamDeletedError when tombstoned. */
  async function readStreamRaw(
    streamId: string,
    direction: 'forwards' | 'backwards',
    fromRevision: ReadRevision,
    maxCount: number,
  ): Promise<AnyRecorded[]> {
    if (maxCount <= 0) return [];
    try {
      const resolved = await collect(client.readStream(streamId, { direction, fromRevision, maxCount: BigInt(maxCount) }));
      return resolved.flatMap((r) => (r.event ? [r.event] : []));
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      if (isStreamDeleted(error)) throw new StreamDeletedError(streamId);
      throw mapEsdbError(error, streamId, 'any', 'read');
    }
  }

  const refOf = (event: AnyRecorded): StoredRef => {
    const position = fromEsdbPosition(event.position);
    remember(position);
    return { eventId: event.id.toLowerCase(), revision: toSafeNumber(event.revision, 'stream revision'), position };
  };

  /** The original result when these event ids are already the stream's, null when none is. */
  async function storedAppend(streamId: string, ids: readonly string[]): Promise<AppendResult | null> {
    const tail = (await readStreamRaw(streamId, 'backwards', 'end', Math.max(idempotencyWindow, ids.length))).map(refOf);
    let located = locateReplay(tail, ids);
    if (located.kind === 'reread') {
      const block = (await readStreamRaw(streamId, 'forwards', BigInt(located.fromRevision), ids.length)).map(refOf);
      located = locateReplay(block, ids, { final: true });
    }
    switch (located.kind) {
      case 'new':
      case 'reread':
        return null;
      case 'replay':
        return { revision: located.revision, position: located.position };
      case 'mismatch':
        throw new NovaCronError('NC_IDEMPOTENCY_MISMATCH', `event ${located.eventId} does not match what was stored for these event ids in ${streamId}`, {
          details: { streamId, eventId: located.eventId },
        });
      default: {
        const never: never = located;
        throw new Error(`unknown replay decision ${JSON.stringify(never)}`);
      }
    }
  }

  async function positionOfRevision(streamId: string, revision: number): Promise<number> {
    const [event] = await readStreamRaw(streamId, 'forwards', BigInt(revision), 1);
    return event ? fromEsdbPosition(event.position) : 0;
  }

  /** The stream's last revision as ESDB's writer sees it (also for soft-deleted streams, whose events reads hide): an empty append that cannot succeed. */
  async function probeLastRevision(streamId: string): Promise<number | 'no_stream'> {
    try {
      await client.appendToStream(streamId, [], { streamState: PROBE_REVISION });
    } catch (error) {
      const actual = (error as { actualState?: bigint | 'no_stream' }).actualState;
      if (actual !== undefined) return actual === 'no_stream' || actual < 0n ? 'no_stream' : toSafeNumber(actual, 'stream revision');
      if (isStreamDeleted(error)) throw new StreamDeletedError(streamId);
      throw mapEsdbError(error, streamId, 'any', 'read stream state');
    }
    return 'no_stream';
  }

  async function rawMetadata(streamId: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await client.getStreamMetadata(streamId)).metadata as Record<string, unknown> | undefined;
    } catch (error) {
      if (isStreamNotFound(error) || isStreamDeleted(error)) return undefined;
      throw mapEsdbError(error, streamId, 'any', 'read metadata');
    }
  }

  async function stateOf(streamId: string): Promise<StreamState> {
    let last: AnyRecorded | undefined;
    try {
      [last] = await readStreamRaw(streamId, 'backwards', 'end', 1);
    } catch (error) {
      if (error instanceof StreamDeletedError) return { status: 'tombstoned', lastRevision: -1 };
      throw error;
    }
    if (last) return { status: 'live', lastRevision: toSafeNumber(last.revision, 'stream revision') };
    // Absent, soft-deleted, or every event hidden by maxAge / maxCount / truncateBefore.
    let metadata: Record<string, unknown> | undefined;
    let current: number | 'no_stream';
    try {
      [metadata, current] = await Promise.all([rawMetadata(streamId), probeLastRevision(streamId)]);
    } catch (error) {
      if (error instanceof StreamDeletedError) return { status: 'tombstoned', lastRevision: -1 };
      throw error;
    }
    if (metadata !== undefined && isSoftDeleteMarker(metadata.truncateBefore)) {
      return { status: 'soft_deleted', lastRevision: current === 'no_stream' ? -1 : current };
    }
    return current === 'no_stream' ? { status: 'none', lastRevision: -1 } : { status: 'live', lastRevision: current };
  }

  /** The `exists` expectation of deletes, which ESDB's delete does not take: the revision to delete at. */
  async function existingRevision(streamId: string): Promise<bigint> {
    const state = await stateOf(streamId);
    if (state.status === 'tombstoned') throw new StreamDeletedError(streamId);
    if (state.status !== 'live') throw new WrongExpectedRevisionError(streamId, 'exists', 'no_stream');
    return BigInt(state.lastRevision);
  }

  async function remove(streamId: string, options: AppendOptions, hard: boolean): Promise<void> {
    assertOpen();
    streamOf(streamId);
    const expected = normalizeExpected(options.expectedRevision);
    for (let attempt = 0; ; attempt++) {
      const state = toDeleteState(expected) ?? (await existingRevision(streamId));
      try {
        if (hard) await client.tombstoneStream(streamId, { expectedRevision: state });
        else await client.deleteStream(streamId, { expectedRevision: state });
        break;
      } catch (error) {
        // `exists` deletes at the revision it read: a write in between is retried, not a conflict.
        const raced = expected === 'exists' && esdbErrorType(error) === 'wrong-expected-version';
        if ((raced || isTransientEsdbError(error)) && attempt < appendAttempts - 1) continue;
        throw mapEsdbError(error, streamId, expected, hard ? 'tombstone' : 'delete');
      }
    }
    // The snapshot goes with the stream: its companion stream is soft-deleted, so reads find none.
    const snapshots = snapshotStreamOf(streamId);
    const [snapshot] = await readStreamRaw(snapshots, 'backwards', 'end', 1).catch((error: unknown) => {
      if (error instanceof StreamDeletedError) return [];
      throw error;
    });
    if (!snapshot) return;
    try {
      await client.deleteStream(snapshots, { expectedRevision: 'any' });
    } catch (error) {
      if (!isStreamNotFound(error) && !isStreamDeleted(error)) throw mapEsdbError(error, snapshots, 'any', 'delete snapshot');
    }
  }

  /**
   * Reads `$all` in one direction from `at`, page by page, until `maxCount`
   * events pass `plan` and `keep`, or the log ends. `alternative`: a second
   * start to try when the server refuses the first (not a record boundary).
   */
  async function scanAll(
    direction: 'forwards' | 'backwards',
    start: ReadPosition,
    alternative: number | null,
    maxCount: number,
    plan: FilterPlan,
    keep: (position: number) => boolean,
    raw: boolean,
  ): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    let at = start;
    let fallback = alternative;
    let guessed = alternative !== null;
    while (out.length < maxCount) {
      const want = Math.min(readBatchSize, maxCount - out.length + 1);
      let page: AllStreamResolvedEvent[];
      try {
        page = await collect(client.readAll({ direction, fromPosition: at, maxCount: BigInt(want), ...(plan.server ? { filter: plan.server } : {}) }));
      } catch (error) {
        if (fallback !== null && !isTransientEsdbError(error)) {
          at = toEsdbPosition(fallback);
          fallback = null;
          continue;
        }
        if (guessed && !isTransientEsdbError(error)) {
          throw new NovaCronError('NC_VALIDATION', 'fromPosition must be a position this store handed out, or one past it', {
            details: { field: 'fromPosition' },
            cause: error,
          });
        }
        throw mapEsdbError(error, '$all', 'any', 'read');
      }
      guessed = false;
      fallback = null;
      let last: number | null = null;
      for (const resolved of page) {
        const event = resolved.event;
        if (!event) continue;
        const position = fromEsdbPosition(event.position);
        remember(position);
        last = position;
        if (!keep(position) || !plan.accept(event.streamId, event.type)) continue;
        out.push(toRecorded(event, raw));
        if (out.length >= maxCount) break;
      }
      if (page.length < want || last === null) break;
      // Next page: forwards from the last event (inclusive: it is dropped as seen), backwards from before it.
      at = toEsdbPosition(last);
      const seen = last;
      const previousKeep = keep;
      keep = direction === 'forwards' ? (p) => p > seen && previousKeep(p) : (p) => p < seen && previousKeep(p);
    }
    return out;
  }

  /** The first record boundary after `position` (any event of `$all`), or 'end'. */
  async function boundaryAfter(position: number): Promise<ReadPosition> {
    const start = forwardStart(position, (p) => known.has(p));
    if (start.kind !== 'position') return start.kind;
    const [next] = await scanAll('forwards', toEsdbPosition(start.at), start.alternative, 1, EVERYTHING, (p) => p > position, true);
    return next ? toEsdbPosition(next.position) : 'end';
  }

  async function readAll(options: ReadAllOptions & { raw?: boolean } = {}): Promise<RecordedEvent[]> {
    const { direction = 'forwards', fromPosition, maxCount = 4096, filter, raw = false } = options;
    if (direction !== 'forwards' && direction !== 'backwards') {
      throw new NovaCronError('NC_VALIDATION', `direction must be forwards or backwards`, { details: { field: 'direction' } });
    }
    if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
      throw new NovaCronError('NC_VALIDATION', 'maxCount must be an integer >= 0', { details: { field: 'maxCount' } });
    }
    const plan = planFilter(filter);
    if (maxCount === 0) return [];
    if (direction === 'forwards') {
      const start = forwardStart(fromPosition, (p) => known.has(p));
      if (start.kind === 'end') return [];
      if (start.kind === 'start') return scanAll('forwards', 'start', null, maxCount, plan, () => true, raw);
      return scanAll('forwards', toEsdbPosition(start.at), start.alternative, maxCount, plan, (p) => p >= start.from, raw);
    }
    if (fromPosition === 'start') return [];
    if (fromPosition === undefined || fromPosition === 'end') return scanAll('backwards', 'end', null, maxCount, plan, () => true, raw);
    if (!Number.isSafeInteger(fromPosition) || fromPosition < 0) {
      throw new NovaCronError('NC_VALIDATION', 'fromPosition must be an integer >= 0, start or end', { details: { field: 'fromPosition' } });
    }
    const from = await boundaryAfter(fromPosition);
    return scanAll('backwards', from, null, maxCount, plan, (p) => p <= fromPosition, raw);
  }

  async function readSnapshotOf<State>(streamId: string): Promise<Snapshot<State> | null> {
    let last: AnyRecorded | undefined;
    try {
      [last] = await readStreamRaw(snapshotStreamOf(streamId), 'backwards', 'end', 1);
    } catch (error) {
      if (error instanceof StreamDeletedError) return null;
      throw error;
    }
    const data = last?.data as { revision?: unknown; version?: unknown; state?: unknown } | undefined;
    if (!data || typeof data !== 'object' || !Number.isSafeInteger(data.revision) || !Number.isSafeInteger(data.version)) return null;
    return { revision: data.revision as number, version: data.version as number, state: data.state as State };
  }

  return {
    async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
      assertOpen();
      streamOf(streamId);
      const expected = normalizeExpected(options.expectedRevision);
      const prepared = prepareEvents(streamId, events);
      if (prepared.length === 0) {
        const state = await stateOf(streamId);
        if (state.status === 'tombstoned') throw new StreamDeletedError(streamId);
        const current = state.status === 'live' ? state.lastRevision : 'no_stream';
        if (!expectationHolds(expected, current)) throw new WrongExpectedRevisionError(streamId, expected, current);
        const position = state.status === 'live' ? await positionOfRevision(streamId, state.lastRevision) : 0;
        return { revision: state.lastRevision, position };
      }
      const ids = prepared.map((p) => p.id);
      // Exact and no_stream expectations are deduplicated by ESDB itself, from its index; any and exists only from a cache.
      const checkTail = idempotencyWindow > 0 && (expected === 'any' || expected === 'exists');
      for (let attempt = 0; ; attempt++) {
        let result: EsdbAppendResult;
        try {
          if (checkTail) {
            const stored = await storedAppend(streamId, ids);
            if (stored) return stored;
          }
          result = await client.appendToStream(streamId, prepared.map((p) => p.data), { streamState: toAppendState(expected) });
        } catch (error) {
          // A lost answer, a leader change, a write ESDB dropped as a duplicate still in flight: the next try finds it or writes it.
          const transient = error instanceof NovaCronError ? error.retriable : isTransientEsdbError(error);
          if (transient && attempt < appendAttempts - 1) {
            await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt * (0.5 + Math.random() / 2)));
            continue;
          }
          if (isStreamDeleted(error) && expected === 'exists') {
            // ESDB answers "deleted" to `stream_exists` on a soft-deleted stream; for the port that stream does not exist.
            const state = await stateOf(streamId);
            if (state.status !== 'tombstoned') throw new WrongExpectedRevisionError(streamId, expected, 'no_stream');
          }
          throw mapEsdbError(error, streamId, expected, 'append');
        }
        const revision = toSafeNumber(result.nextExpectedRevision, 'stream revision');
        let position = fromEsdbPosition(result.position);
        // Answers to a write ESDB recognised as a duplicate may carry no position.
        if (position <= 0) position = await positionOfRevision(streamId, revision);
        remember(position);
        return { revision, position };
      }
    },

    async readStream(streamId: string, { direction = 'forwards', fromRevision, maxCount = Number.MAX_SAFE_INTEGER }: ReadStreamOptions = {}) {
      assertOpen();
      streamOf(streamId);
      if (typeof fromRevision === 'number' && (!Number.isSafeInteger(fromRevision) || fromRevision < 0)) {
        throw new NovaCronError('NC_VALIDATION', 'fromRevision must be an integer >= 0, start or end', { details: { field: 'fromRevision' } });
      }
      if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
        throw new NovaCronError('NC_VALIDATION', 'maxCount must be an integer >= 0', { details: { field: 'maxCount' } });
      }
      const from: ReadRevision =
        typeof fromRevision === 'number' ? BigInt(fromRevision) : (fromRevision ?? (direction === 'forwards' ? 'start' : 'end'));
      const events = await readStreamRaw(streamId, direction, from, maxCount);
      return events.map((event) => toRecorded(event));
    },

    readAll(options?: ReadAllOptions) {
      assertOpen();
      return readAll(options);
    },

    subscribeToAll(options: SubscribeOptions & { raw?: boolean } = {}): Subscription {
      assertOpen();
      const plan = planFilter(options.filter);
      const raw = options.raw === true;
      const subscription = createEsdbSubscription({
        afterPosition: options.afterPosition ?? 0,
        batchSize: options.batchSize ?? 256,
        open: (after, highWaterMark) =>
          client.subscribeToAll(
            { fromPosition: after > 0 ? toEsdbPosition(after) : 'start', ...(plan.server ? { filter: plan.server } : {}) },
            { highWaterMark },
          ),
        convert: (resolved) => {
          const event = resolved.event;
          if (!event || !plan.accept(event.streamId, event.type)) return null;
          return toRecorded(event, raw);
        },
        onStop: () => subscriptions.delete(subscription),
      });
      subscriptions.add(subscription);
      return subscription;
    },

    async streamState(streamId: string): Promise<StreamState> {
      assertOpen();
      streamOf(streamId);
      return stateOf(streamId);
    },

    async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
      assertOpen();
      streamOf(streamId);
      return fromEsdbMetadata(await rawMetadata(streamId));
    },

    async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
      assertOpen();
      streamOf(streamId);
      validateStreamMetadata(metadata);
      // New metadata undeletes a soft-deleted stream. A metadata write replaces the whole document, the soft delete's `$tb` too,
      // which would show its events again: the port keeps them truncated (`truncateBefore` at least past the deleted ones).
      let written = metadata;
      if (isSoftDeleteMarker((await rawMetadata(streamId))?.truncateBefore)) {
        const last = await probeLastRevision(streamId);
        const deletedBefore = last === 'no_stream' ? 0 : last + 1;
        written = { ...metadata, truncateBefore: Math.max(metadata.truncateBefore ?? 0, deletedBefore) };
      }
      try {
        await client.setStreamMetadata(streamId, toEsdbMetadata(written));
      } catch (error) {
        throw mapEsdbError(error, streamId, 'any', 'set metadata');
      }
    },

    deleteStream(streamId: string, options: AppendOptions = {}): Promise<void> {
      return remove(streamId, options, false);
    },

    tombstoneStream(streamId: string, options: AppendOptions = {}): Promise<void> {
      return remove(streamId, options, true);
    },

    async readSnapshot<State>(streamId: string): Promise<Snapshot<State> | null> {
      assertOpen();
      streamOf(streamId);
      return readSnapshotOf<State>(streamId);
    },

    async writeSnapshot<State>(streamId: string, snapshot: Snapshot<State>): Promise<void> {
      assertOpen();
      streamOf(streamId);
      const [last] = await readStreamRaw(streamId, 'backwards', 'end', 1).catch((error: unknown) => {
        if (error instanceof StreamDeletedError) return [];
        throw error;
      });
      if (!last || snapshot.revision > toSafeNumber(last.revision, 'stream revision')) return;
      const existing = await readSnapshotOf<State>(streamId);
      if (existing && existing.version === snapshot.version && existing.revision > snapshot.revision) return;
      const stream = snapshotStreamOf(streamId);
      const data = { revision: snapshot.revision, version: snapshot.version, state: snapshot.state as unknown };
      try {
        await client.appendToStream(stream, [
          { id: newEventId(), contentType: 'application/json', type: SNAPSHOT_EVENT_TYPE, data: data as Record<string, unknown>, metadata: undefined },
        ]);
        if (existing === null) await client.setStreamMetadata(stream, { maxCount: 1 });
      } catch (error) {
        const mapped = mapEsdbError(error, stream, 'any', 'write snapshot');
        // A snapshot is a cache: one too large for the server is simply not kept.
        if (mapped instanceof NovaCronError && mapped.code === 'NC_EVENT_TOO_LARGE') return;
        throw mapped;
      }
    },

    async headPosition(): Promise<number> {
      assertOpen();
      const [last] = await scanAll('backwards', 'end', null, 1, planFilter(undefined), () => true, true);
      return last?.position ?? 0;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.stop()));
      if (!given) await client.dispose();
    },
  };
}
