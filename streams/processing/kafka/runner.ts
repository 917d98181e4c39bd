import type Database from 'better-sqlite3';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { headerOf } from '../../kafka/index.ts';
import type { RecordedEvent } from '../../eventstore/index.ts';
import { isRetriable, withBackoff } from '../retriable.ts';
import type { ProcessorStatus } from '../runner.ts';
import { FatalProcessorError, type Processor } from '../types.ts';
import { lazyAdmin } from './admin.ts';
import type { KafkaEventDecoder } from './decoder.ts';
import { isFenced } from './errors.ts';
import { partitionLag, totals, type PartitionLag } from './lag.ts';
import type { KafkaStateStore } from './state.ts';

export interface KafkaRunnerOptions {
  processor: Processor<Database.Database>;
  state: KafkaStateStore;
  kafka: Kafka;
  groupId: string;
  /** The category topics the processor reads. */
  topics: readonly string[];
  decoder: KafkaEventDecoder;
  /** Most events applied in one commit. */
  batchSize?: number;
  /** Consumer session timeout: how long a dead instance keeps its partitions before the group moves them. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Retries of a retriable failure (SQLite busy, registry unreachable) within a batch before the consumer restarts. */
  maxRetries?: number;
  backoff?: { baseMs: number; capMs: number };
  /** After each commit: the events of the batch the processor applies (cache invalidation, metrics). */
  /** The admin client lag is read with (a host shares one); default: one of its own. */
  admin?: () => Promise<Admin>;
  onCommit?: (batch: readonly RecordedEvent[], at: { topic: string; partition: number; offset: number }) => void;
  /** A batch refused by the fence (this instance was a zombie for that partition). */
  onFenced?: (error: Error) => void;
  onError?: (error: unknown) => void;
}

/**
 * Counted in offsets, summed over partitions: `head` is Σ of the high
 * watermarks, `checkpoint` is head − lag (offsets applied or skipped), `lag`
 * head − checkpoint. Offsets are not events: the relay writes in transactions,
 * so they also count transaction markers (one per transaction and partition)
 * and aborted records. `processed` counts the events this instance applied
 * (or skipped) since start.
 */
export interface KafkaProcessorStatus extends ProcessorStatus {
  /** Batches this instance dropped because another instance had applied their partition first. */
  fenced: number;
  groupId: string;
  /** Partitions assigned to this instance (empty for an instance that only reads the file). */
  assigned: Array<{ topic: string; partition: number }>;
  partitions: PartitionLag[];
}

interface Slot {
  message: KafkaMessage;
  offset: number;
}

/**
 * One processor as a member of a Kafka consumer group: source (the category
 * topics) → batch (a fetch of one partition, cut to `batchSize`) → apply →
 * commit. Offsets live in the projection's SQLite file, committed with the
 * writes (kafka_offsets), never in Kafka: on assignment the consumer seeks to
 * the stored offset + 1, and each batch skips what is already stored (an early
 * fetch before the seek never re-applies). The commit is fenced on the offset
 * read before the batch, so a zombie's batch is rolled back and dropped.
 * An event that cannot be applied is parked with its error and the partition
 * goes on.
 */
export function createKafkaProcessorRunner({
  processor,
  state,
  kafka,
  groupId,
  topics,
  decoder,
  admin,
  batchSize = 500,
  // Kafka's smallest default (group.min.session.timeout.ms): a processor killed, or one whose broker
  // crashed, is out of its group within 6 s, so the group resumes within seconds of a restart.
  sessionTimeoutMs = 6_000,
  heartbeatIntervalMs = Math.max(100, Math.floor(sessionTimeoutMs / 10)),
  maxRetries = 8,
  backoff = { baseMs: 20, capMs: 5_000 },
  onCommit,
  onFenced,
  onError,
}: KafkaRunnerOptions) {
  if (!processor?.name) throw new TypeError('createKafkaProcessorRunner: processor.name is required');
  if (!groupId) throw new TypeError('createKafkaProcessorRunner: groupId is required');
  if (topics.length === 0) throw new TypeError(`createKafkaProcessorRunner: ${processor.name} reads no topic`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('createKafkaProcessorRunner: batchSize must be a positive integer');
  const handles = new Set(processor.handles);
  let status: KafkaProcessorStatus['state'] = 'idle';
  let processed = 0;
  let fenced = 0;
  let lastError: string | null = null;
  let failures = 0;
  let consumer: Consumer | null = null;
  const ownAdmin = lazyAdmin(kafka);
  /** The admin client lag is read with: the host's, or one of its own opened on first use. */
  const adminClient = (): Promise<Admin> => (admin ? admin() : ownAdmin.get());
  let assigned: Array<{ topic: string; partition: number }> = [];

  const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

  /** An attempt failed: the status shows it until an attempt succeeds. */
  function failing(error: unknown): void {
    lastError = describe(error);
    failures++;
    onError?.(error);
  }
  /** An attempt succeeded (a commit, a park): the error clears. */
  function succeeded(): void {
    lastError = null;
    failures = 0;
  }

  const withRetries = async <T>(work: () => T | Promise<T>, isRunning: () => boolean): Promise<T> => {
    const result = await withBackoff(work, { maxRetries, backoff, keepTrying: (error) => !isFenced(error) && isRunning(), onRetry: failing });
    succeeded();
    return result;
  };

  /** A message that cannot be decoded, as a parked event (what its key and headers tell). */
  function undecodable(message: KafkaMessage): RecordedEvent {
    const header = (name: string) => headerOf(message.headers, name);
    const position = Number(header('position'));
    return {
      streamId: message.key?.toString() ?? '(no key)',
      revision: Number(header('revision') ?? -1),
      position: Number.isSafeInteger(position) ? position : -1,
      type: header('type') ?? '(unknown)',
      data: {},
      metadata: { eventId: header('eventId') ?? '', tenantId: null, correlationId: '', causationId: null, actor: '', occurredAt: '', schemaVersion: 0 },
      recordedAt: '',
    };
  }

  const relevant = (events: readonly RecordedEvent[]) => events.filter((event) => handles.has(event.type));

  /**
   * Applies one chunk of a partition's messages from `expected` (the stored
   * offset read before the batch) to `last`. Returns the new stored offset, or
   * null when the chunk was fenced (dropped).
   */
  async function applyChunk(topic: string, partition: number, expected: number, chunk: readonly Slot[], last: number, isRunning: () => boolean): Promise<number | null> {
    const events: Array<RecordedEvent | { failed: unknown; message: KafkaMessage }> = [];
    for (const { message } of chunk) {
      try {
        const type = decoder.typeOf(message);
        // Types the processor does not apply only move its offset and their stream's revision: no Avro decoding.
        events.push(type !== undefined && !handles.has(type) ? decoder.envelope(message) : await withRetries(() => decoder.event(message, topic), isRunning));
      } catch (error) {
        if (isRetriable(error) || error instanceof FatalProcessorError) throw error;
        events.push({ failed: error, message });
      }
    }
    const decoded = events.every((e): e is RecordedEvent => !('failed' in e));
    if (decoded) {
      try {
        const applied = relevant(events);
        await withRetries(async () => {
          if (processor.prepare && applied.length > 0) await processor.prepare(applied);
          await state.commit({ topic, partition, expected, offset: last, events, work: (db) => processor.apply(applied, db) });
        }, isRunning);
        processed += events.length;
        onCommit?.(relevant(events), { topic, partition, offset: last });
        return last;
      } catch (error) {
        if (isFenced(error)) return fence(error);
        if (error instanceof FatalProcessorError || isRetriable(error)) throw error;
        // Some event cannot be applied: one at a time, parking the culprit.
      }
    }
    let at = expected;
    for (const [i, slot] of chunk.entries()) {
      const entry = events[i]!;
      const offset = i === chunk.length - 1 ? last : slot.offset;
      try {
        if ('failed' in entry) {
          onError?.(entry.failed);
          await withRetries(() => state.park({ topic, partition, expected: at, offset, event: undecodable(entry.message), error: entry.failed }), isRunning);
        } else {
          try {
            await withRetries(() => state.commit({ topic, partition, expected: at, offset, events: [entry], work: (db) => processor.apply(relevant([entry]), db) }), isRunning);
            onCommit?.(relevant([entry]), { topic, partition, offset });
          } catch (error) {
            if (isFenced(error) || error instanceof FatalProcessorError || isRetriable(error)) throw error;
            onError?.(error);
            await withRetries(() => state.park({ topic, partition, expected: at, offset, event: entry, error }), isRunning);
          }
        }
      } catch (error) {
        if (isFenced(error)) return fence(error);
        throw error;
      }
      processed++;
      at = offset;
    }
    return at;
  }

  function fence(error: Error & { topic: string; partition: number; stored: number }): null {
    fenced++;
    onFenced?.(error);
    // Go on after what the other instance applied (if the partition is still ours after the rebalance).
    consumer?.seek({ topic: error.topic, partition: error.partition, offset: String(error.stored + 1) });
    return null;
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    let expected = state.offset(topic, partition);
    const batchLast = Number(batch.lastOffset());
    const pending: Slot[] = [];
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset > expected) pending.push({ message, offset });
    }
    if (pending.length === 0) {
      if (batchLast > expected) {
        // Only a transaction marker past what is stored: move the offset over it, so the lag reads 0.
        const stored = await applyChunk(topic, partition, expected, [], batchLast, isRunning);
        if (stored === null) return;
      }
      // Otherwise everything fetched was applied already (a fetch from before the seek).
      resolveOffset(String(Math.max(expected, batchLast)));
      return;
    }
    for (let from = 0; from < pending.length; from += batchSize) {
      if (!isRunning() || isStale()) return;
      const chunk = pending.slice(from, from + batchSize);
      const isLastChunk = from + batchSize >= pending.length;
      const last = isLastChunk ? Math.max(batchLast, chunk[chunk.length - 1]!.offset) : chunk[chunk.length - 1]!.offset;
      const stored = await applyChunk(topic, partition, expected, chunk, last, isRunning);
      if (stored === null) return;
      expected = stored;
      resolveOffset(String(chunk[chunk.length - 1]!.offset));
      await heartbeat();
    }
  }

  return {
    name: processor.name,
    groupId,
    /** Joins the group; resolves once the consumer runs (its first assignment may come later). */
    async start(): Promise<void> {
      if (consumer) return;
      succeeded();
      const c = kafka.consumer({
        groupId,
        sessionTimeout: sessionTimeoutMs,
        heartbeatInterval: heartbeatIntervalMs,
        rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
        allowAutoTopicCreation: false,
      });
      consumer = c;
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        // Synchronous (better-sqlite3): the seeks are registered before the first fetch of the new generation.
        assigned = [];
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            assigned.push({ topic, partition });
            const stored = state.offset(topic, partition);
            if (stored >= 0) c.seek({ topic, partition, offset: String(stored + 1) });
          }
        }
      });
      c.on(c.events.CRASH, ({ payload }) => {
        failing(payload.error);
        if (!payload.restart) status = 'failed';
      });
      try {
        await c.connect();
        await c.subscribe({ topics: [...topics], fromBeginning: true });
        await c.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
        status = 'running';
      } catch (error) {
        consumer = null;
        status = 'failed';
        lastError = describe(error);
        failures++;
        await c.disconnect().catch(() => undefined);
        throw error;
      }
    },
    /** Leaves the group after the batch in flight is committed (or dropped). */
    async stop(): Promise<void> {
      const c = consumer;
      consumer = null;
      assigned = [];
      if (c) await c.disconnect();
      await ownAdmin.close();
      if (status !== 'failed') status = 'stopped';
    },
    /** Per-partition lag: high watermark − (stored offset + 1), from the brokers and the file. */
    async lag(): Promise<PartitionLag[]> {
      return partitionLag(await adminClient(), topics, state.offsets());
    },
    async status(): Promise<KafkaProcessorStatus> {
      const partitions = await this.lag();
      return {
        name: processor.name,
        state: status,
        ...totals(partitions),
        parked: await state.parkedCount(),
        processed,
        fenced,
        error: lastError,
        failures,
        groupId,
        assigned: [...assigned],
        partitions,
      };
    },
  };
}

export type KafkaProcessorRunner = ReturnType<typeof createKafkaProcessorRunner>;
