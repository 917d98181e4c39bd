/**
 * An in-memory model of the parts of an EventStoreDB server the adapter uses,
 * behind the client's method names, for tests on machines without a server.
 * It follows the server's documented and source-visible behaviour:
 *
 * - appends: the writer's commit check (`IndexWriter.CheckCommit`): exact and
 *   `no_stream` expectations compare the ids at the expected revision; `any`
 *   and `stream_exists` look ids up in a global id → (stream, revision) cache
 *   and accept ids stored in *another* stream as new; a partial match is a
 *   wrong expected version ("corrupted idempotency"); `stream_exists` on a
 *   soft-deleted stream is "deleted"; `no_stream` on a soft-deleted stream
 *   recreates it, continuing its revisions, and rewrites `$tb`.
 * - every event is a record at a byte offset of the log (gaps between them);
 *   `$all` reads from an offset that is not a record start fail.
 * - soft delete writes `$tb: long.MaxValue` to the metastream; tombstone
 *   writes a `$streamDeleted` record; metadata (`$maxAge`, `$maxCount`,
 *   `$tb`) limits stream reads.
 * - subscriptions: catch-up then live, exclusive of their start position, as
 *   an object-mode stream that stops when its reader does (back-pressure).
 *
 * It is a model, not the server: passing against it shows the adapter's logic
 * is consistent with this reading of ESDB, not that ESDB agrees.
 */
import { PassThrough } from 'node:stream';
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';

type Position = { commit: bigint; prepare: bigint };
type State = 'any' | 'no_stream' | 'stream_exists' | bigint;

interface LogRecord {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  created: Date;
  position: bigint;
  isJson: boolean;
}

interface StreamInfo {
  last: bigint;
  records: LogRecord[];
  tombstoned: boolean;
}

export class FakeEsdbError extends Error {
  readonly type: string;
  readonly actualState?: bigint | 'no_stream';

  constructor(type: string, message: string, actualState?: bigint | 'no_stream') {
    super(message);
    this.type = type;
    if (actualState !== undefined) this.actualState = actualState;
  }
}

const DELETED_MARKER = 9223372036854775807n; // long.MaxValue, as JSON it reads back as an unsafe number
const META = (stream: string): string => `$$${stream}`;

interface FakeOptions {
  /** Called before each append: throw to simulate a dropped connection or a timeout. */
  beforeAppend?: (streamId: string) => void;
}

export interface FakeEsdb {
  client: KurrentDBClient;
  /** Every record of the log, system records included. */
  readonly log: readonly LogRecord[];
  appends: number;
}

export function createFakeEsdb({ beforeAppend }: FakeOptions = {}): FakeEsdb {
  const log: LogRecord[] = [];
  const byPosition = new Map<bigint, number>();
  const streams = new Map<string, StreamInfo>();
  const committed = new Map<string, { streamId: string; revision: bigint }>();
  const live = new Set<() => void>();
  let nextPosition = 4096n; // the log opens with an epoch record
  const fake: FakeEsdb = { client: undefined as unknown as KurrentDBClient, log, appends: 0 };

  const info = (streamId: string): StreamInfo => {
    let s = streams.get(streamId);
    if (!s) {
      s = { last: -1n, records: [], tombstoned: false };
      streams.set(streamId, s);
    }
    return s;
  };

  function metadataOf(streamId: string): Record<string, unknown> {
    const meta = streams.get(META(streamId));
    const last = meta?.records[meta.records.length - 1];
    return last ? JSON.parse(JSON.stringify(last.data)) : {};
  }

  /** `$tb` as the server holds it (a long); JSON numbers are rounded, so the marker is compared loosely. */
  const truncateBefore = (metadata: Record<string, unknown>): bigint | null => {
    const tb = metadata.$tb;
    if (typeof tb !== 'number') return null;
    return tb >= Number.MAX_SAFE_INTEGER ? DELETED_MARKER : BigInt(tb);
  };
  const isSoftDeleted = (streamId: string): boolean => truncateBefore(metadataOf(streamId)) === DELETED_MARKER;

  function write(streamId: string, events: Array<{ id: string; type: string; data: unknown; metadata: unknown; contentType?: string }>): LogRecord[] {
    const s = info(streamId);
    const written = events.map((event) => {
      s.last += 1n;
      const body = JSON.stringify(event.data ?? null) + JSON.stringify(event.metadata ?? null);
      const record: LogRecord = {
        streamId,
        id: event.id.toLowerCase(),
        revision: s.last,
        type: event.type,
        data: JSON.parse(JSON.stringify(event.data ?? null)),
        metadata: event.metadata === undefined ? undefined : JSON.parse(JSON.stringify(event.metadata)),
        created: new Date(),
        position: nextPosition,
        isJson: event.contentType !== 'application/octet-stream',
      };
      nextPosition += BigInt(80 + streamId.length + Buffer.byteLength(body));
      byPosition.set(record.position, log.length);
      log.push(record);
      s.records.push(record);
      committed.set(record.id, { streamId, revision: record.revision });
      return record;
    });
    for (const wake of [...live]) wake();
    return written;
  }

  function appendToStream(
    streamId: string,
    input: unknown,
    { streamState = 'any' }: { streamState?: State } = {},
  ): { success: true; nextExpectedRevision: bigint; position?: Position } {
    const events = (Array.isArray(input) ? input : [input]) as Array<{ id: string; type: string; data: unknown; metadata: unknown; contentType?: string }>;
    const s = info(streamId);
    if (s.tombstoned) throw new FakeEsdbError('stream-deleted', `stream ${streamId} is deleted`);
    const cur = s.last;
    const soft = isSoftDeleted(streamId);
    const ids = events.map((e) => e.id.toLowerCase());
    const wrong = (): never => {
      throw new FakeEsdbError('wrong-expected-version', `wrong expected version for ${streamId}`, cur < 0n ? 'no_stream' : cur);
    };
    const idempotent = (end: bigint) => {
      const record = s.records.find((r) => r.revision === end);
      return { success: true as const, nextExpectedRevision: end, ...(record ? { position: { commit: record.position, prepare: record.position } } : {}) };
    };
    if (streamState === 'stream_exists') {
      if (soft) throw new FakeEsdbError('stream-deleted', `stream ${streamId} is deleted`);
      if (cur < 0n && !streams.get(META(streamId))?.records.length) wrong();
    }
    let recreate = false;
    if (streamState === 'any' || streamState === 'stream_exists') {
      let start: bigint | null = null;
      let end: bigint | null = null;
      for (const id of ids) {
        const hit = committed.get(id);
        if (!hit || hit.streamId !== streamId) {
          if (start === null) break;
          wrong(); // corrupted idempotency
        }
        start ??= hit!.revision;
        end = hit!.revision;
      }
      if (end !== null) return idempotent(end);
      recreate = soft;
    } else {
      const expected = streamState === 'no_stream' ? -1n : streamState;
      if (expected < cur) {
        let n = expected;
        for (const id of ids) {
          n += 1n;
          const record = s.records.find((r) => r.revision === n);
          if (record && record.id === id) continue;
          if (n !== expected + 1n) wrong(); // corrupted idempotency
          if (expected === -1n && soft) {
            recreate = true;
            break;
          }
          wrong();
        }
        if (!recreate) {
          if (n === expected) wrong(); // no events: nothing to be idempotent about
          return idempotent(n);
        }
      } else if (expected > cur) {
        wrong();
      } else {
        recreate = soft;
      }
    }
    if (events.length === 0) return { success: true, nextExpectedRevision: cur };
    const written = write(streamId, events);
    if (recreate) {
      const metadata = metadataOf(streamId);
      write(META(streamId), [{ id: crypto.randomUUID(), type: '$metadata', data: { ...metadata, $tb: Number(cur + 1n) }, metadata: undefined }]);
    }
    const first = written[0] as LogRecord;
    const last = written[written.length - 1] as LogRecord;
    return { success: true, nextExpectedRevision: last.revision, position: { commit: last.position, prepare: first.position } };
  }

  function visible(streamId: string): LogRecord[] {
    const s = streams.get(streamId);
    if (!s) throw new FakeEsdbError('stream-not-found', `stream ${streamId} not found`);
    if (s.tombstoned) throw new FakeEsdbError('stream-deleted', `stream ${streamId} is deleted`);
    if (streamId.startsWith('$$')) return s.records;
    const metadata = metadataOf(streamId);
    const tb = truncateBefore(metadata);
    if (tb === DELETED_MARKER || s.last < 0n) throw new FakeEsdbError('stream-not-found', `stream ${streamId} not found`);
    const maxCount = typeof metadata.$maxCount === 'number' ? BigInt(metadata.$maxCount) : null;
    const maxAge = typeof metadata.$maxAge === 'number' ? metadata.$maxAge * 1000 : null;
    const now = Date.now();
    return s.records.filter(
      (r) =>
        (tb === null || r.revision >= tb) &&
        (maxCount === null || r.revision > s.last - maxCount) &&
        (maxAge === null || now - r.created.getTime() <= maxAge),
    );
  }

  const resolved = (r: LogRecord) => ({
    event: { streamId: r.streamId, id: r.id, revision: r.revision, type: r.type, data: r.data, metadata: r.metadata, isJson: r.isJson, created: r.created, position: { commit: r.position, prepare: r.position } },
    commitPosition: r.position,
  });

  async function* readStream(
    streamId: string,
    { direction = 'forwards', fromRevision = direction === 'forwards' ? 'start' : 'end', maxCount = BigInt(Number.MAX_SAFE_INTEGER) }: { direction?: string; fromRevision?: 'start' | 'end' | bigint; maxCount?: bigint | number } = {},
  ) {
    await Promise.resolve();
    const records = visible(streamId);
    const limit = Number(maxCount);
    let out: LogRecord[];
    if (direction === 'forwards') {
      const from = fromRevision === 'start' ? 0n : fromRevision === 'end' ? (streams.get(streamId)?.last ?? -1n) + 1n : fromRevision;
      out = records.filter((r) => r.revision >= from).slice(0, limit);
    } else {
      const from = fromRevision === 'end' ? (streams.get(streamId)?.last ?? -1n) : fromRevision === 'start' ? 0n : fromRevision;
      out = records.filter((r) => r.revision <= from).reverse().slice(0, limit);
    }
    for (const r of out) yield resolved(r);
  }

  type FilterLike = { filterOn: string; prefixes?: string[]; regex?: string } | undefined;
  const matches = (filter: FilterLike, r: LogRecord): boolean => {
    if (!filter) return true;
    const subject = filter.filterOn === 'eventType' ? r.type : r.streamId;
    if (filter.prefixes) return filter.prefixes.some((p) => subject.startsWith(p));
    return new RegExp(filter.regex ?? '').test(subject);
  };

  function indexAt(position: Position | 'start' | 'end', direction: string): number {
    if (position === 'start') return direction === 'forwards' ? 0 : -1;
    if (position === 'end') return direction === 'forwards' ? log.length : log.length;
    if (position.commit >= nextPosition) return log.length;
    const index = byPosition.get(position.commit);
    if (index === undefined) throw new FakeEsdbError('unknown', `invalid position ${position.commit}`);
    return index;
  }

  async function* readAll({
    direction = 'forwards',
    fromPosition = direction === 'forwards' ? 'start' : 'end',
    maxCount = BigInt(Number.MAX_SAFE_INTEGER),
    filter,
  }: { direction?: string; fromPosition?: Position | 'start' | 'end'; maxCount?: bigint | number; filter?: FilterLike } = {}) {
    await Promise.resolve();
    const limit = Number(maxCount);
    const at = indexAt(fromPosition, direction);
    const out: LogRecord[] = [];
    if (direction === 'forwards') {
      for (let i = at; i < log.length && out.length < limit; i++) if (matches(filter, log[i] as LogRecord)) out.push(log[i] as LogRecord);
    } else {
      for (let i = at - 1; i >= 0 && out.length < limit; i--) if (matches(filter, log[i] as LogRecord)) out.push(log[i] as LogRecord);
    }
    for (const r of out) yield resolved(r);
  }

  function subscribeToAll(
    { fromPosition = 'start', filter }: { fromPosition?: Position | 'start' | 'end'; filter?: FilterLike } = {},
    { highWaterMark = 16 }: { highWaterMark?: number } = {},
  ) {
    const stream = new PassThrough({ objectMode: true, highWaterMark }) as PassThrough & { unsubscribe(): Promise<void> };
    let cursor = fromPosition === 'start' ? 0 : fromPosition === 'end' ? log.length : indexAt(fromPosition, 'forwards') + 1; // exclusive
    let waitingForDrain = false;
    let ended = false;
    const pump = (): void => {
      if (ended || waitingForDrain) return;
      while (cursor < log.length) {
        const record = log[cursor++] as LogRecord;
        if (!matches(filter, record)) continue;
        if (!stream.write(resolved(record))) {
          waitingForDrain = true;
          stream.once('drain', () => {
            waitingForDrain = false;
            pump();
          });
          return;
        }
      }
    };
    live.add(pump);
    stream.unsubscribe = async () => {
      ended = true;
      live.delete(pump);
      stream.end();
    };
    setImmediate(pump);
    return stream;
  }

  function deleteOrTombstone(hard: boolean) {
    return async (streamId: string, { expectedRevision = 'any' }: { expectedRevision?: 'any' | 'no_stream' | bigint } = {}) => {
      await Promise.resolve();
      const s = info(streamId);
      if (s.tombstoned) throw new FakeEsdbError('stream-deleted', `stream ${streamId} is deleted`);
      const cur = isSoftDeleted(streamId) && !hard ? s.last : s.last;
      if (expectedRevision !== 'any') {
        const expected = expectedRevision === 'no_stream' ? -1n : expectedRevision;
        if (expected !== cur) throw new FakeEsdbError('wrong-expected-version', `wrong expected version for ${streamId}`, cur < 0n ? 'no_stream' : cur);
      }
      if (hard) {
        write(streamId, [{ id: crypto.randomUUID(), type: '$streamDeleted', data: {}, metadata: undefined }]);
        s.tombstoned = true;
        const meta = streams.get(META(streamId));
        if (meta) meta.tombstoned = true;
      } else {
        write(META(streamId), [{ id: crypto.randomUUID(), type: '$metadata', data: { ...metadataOf(streamId), $tb: Number(DELETED_MARKER) }, metadata: undefined }]);
      }
      return {};
    };
  }

  const SYSTEM_KEYS: Record<string, string> = { maxAge: '$maxAge', maxCount: '$maxCount', truncateBefore: '$tb', cacheControl: '$cacheControl', acl: '$acl' };

  const client = {
    async appendToStream(streamId: string, events: unknown, options?: { streamState?: State }) {
      await Promise.resolve();
      beforeAppend?.(streamId);
      fake.appends += 1;
      return appendToStream(streamId, events, options);
    },
    readStream,
    readAll,
    subscribeToAll,
    async getStreamMetadata(streamId: string) {
      await Promise.resolve();
      if (streams.get(streamId)?.tombstoned) throw new FakeEsdbError('stream-deleted', `stream ${streamId} is deleted`);
      const meta = streams.get(META(streamId));
      const last = meta?.records[meta.records.length - 1];
      if (!last) return { streamName: streamId };
      const metadata: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(last.data as Record<string, unknown>)) {
        const ours = Object.entries(SYSTEM_KEYS).find(([, v]) => v === key)?.[0];
        metadata[ours ?? key] = value;
      }
      return { streamName: streamId, metadata, metastreamRevision: last.revision };
    },
    async setStreamMetadata(streamId: string, metadata: Record<string, unknown>) {
      await Promise.resolve();
      if (streams.get(streamId)?.tombstoned) throw new FakeEsdbError('stream-deleted', `stream ${streamId} is deleted`);
      const data: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(metadata)) data[SYSTEM_KEYS[key] ?? key] = value;
      return appendToStream(META(streamId), [{ id: crypto.randomUUID(), type: '$metadata', data, metadata: undefined }]);
    },
    deleteStream: deleteOrTombstone(false),
    tombstoneStream: deleteOrTombstone(true),
    async dispose() {},
  };
  fake.client = client as unknown as KurrentDBClient;
  return fake;
}
