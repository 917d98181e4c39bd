/**
 * The last committed record of every partition of a set of topics: where the
 * relay finds what is already in Kafka.
 *
 * The relay writes in transactions, so a partition ends with transaction
 * markers (control records, one per transaction that touched it) and possibly
 * with records of aborted transactions: "the record at high watermark − 1" is
 * usually a marker. So each non-empty partition is read with isolation
 * read_committed (kafkajs consumers' default: markers and aborted records are
 * not delivered, and nothing past the last stable offset) from a window before
 * its end, and the highest-offset data record delivered is its last record.
 * When a window delivers none (only markers and aborted records), it is widened
 * backwards, ×16 each time, until a record is found or the partition's low
 * offset is reached (then the partition holds no committed record).
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { NovaCronError } from '../errors/index.ts';
import { talking } from './client.ts';
import { headerOf } from './headers.ts';

export interface PartitionTail {
  topic: string;
  partition: number;
  /**
   * Offsets: first kept, and the end (the next offset to be written; read
   * committed, so the last stable offset: before any transaction still open).
   * Offsets count transaction markers and aborted records too: high − low is
   * not a count of events.
   */
  low: number;
  high: number;
  /**
   * Headers of the last committed data record (below `high`); null when there is none.
   * `type`, `schemaVersion` and `schemaId` (from the value's wire format) when the record has them.
   */
  last: { offset: number; position: number; eventId: string; type?: string; schemaVersion?: number; schemaId?: number } | null;
}

export interface ReadTailsOptions {
  /** Consumer group name prefix (a random suffix is added; nothing is committed). */
  groupPrefix?: string;
  timeoutMs?: number;
  /** Offsets read first before the end of each partition (then ×16 while nothing is found). */
  window?: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

interface Scan {
  tail: PartitionTail;
  /** First offset of the window read. */
  from: number;
  /** Highest-offset data record delivered in [from, high). */
  found: { offset: number; headers: Parameters<typeof headerOf>[0]; value: Buffer | null } | null;
  done: boolean;
}

export async function readTails(
  kafka: Kafka,
  topics: readonly string[],
  { groupPrefix = 'novacron.relay.tails', timeoutMs = 60_000, window = 64 }: ReadTailsOptions = {},
): Promise<PartitionTail[]> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError('readTails: window must be a positive integer');
  const admin = kafka.admin();
  await talking('connecting to Kafka', () => admin.connect());
  const tails: PartitionTail[] = [];
  try {
    for (const topic of topics) {
      const offsets = await talking(`reading the offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
      for (const { partition, low, high } of offsets.sort((a, b) => a.partition - b.partition)) {
        tails.push({ topic, partition, low: Number(low), high: Number(high), last: null });
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const deadline = Date.now() + timeoutMs;
  let pending = tails.filter((t) => t.high > t.low);
  for (let size = window; pending.length > 0; size *= 16) {
    const scans = pending.map((tail): Scan => ({ tail, from: Math.max(tail.low, tail.high - size), found: null, done: false }));
    await scan(kafka, scans, groupPrefix, deadline, timeoutMs);
    for (const { tail, found } of scans) {
      if (found === null) continue;
      const position = Number(headerOf(found.headers, 'position'));
      const eventId = headerOf(found.headers, 'eventId');
      if (!Number.isSafeInteger(position) || position < 1 || eventId === undefined) {
        throw new NovaCronError('NC_RELAY_DIVERGED', `${tail.topic} partition ${tail.partition} offset ${found.offset} has no position/eventId headers: the topic holds records the relay did not write`, {
          details: { topic: tail.topic, partition: tail.partition, offset: String(found.offset) },
        });
      }
      tail.last = { offset: found.offset, position, eventId };
      const type = headerOf(found.headers, 'type');
      const schemaVersion = Number(headerOf(found.headers, 'schemaVersion'));
      if (type !== undefined) tail.last.type = type;
      if (Number.isSafeInteger(schemaVersion)) tail.last.schemaVersion = schemaVersion;
      if (found.value !== null && found.value.length >= 5 && found.value[0] === 0) tail.last.schemaId = found.value.readInt32BE(1);
    }
    pending = scans.filter((s) => s.found === null && s.from > s.tail.low).map((s) => s.tail);
  }
  return tails;
}

/** Reads each partition's window [from, high) with one short-lived consumer, keeping the highest data record. */
async function scan(kafka: Kafka, scans: Scan[], groupPrefix: string, deadline: number, timeoutMs: number): Promise<void> {
  const byKey = new Map(scans.map((s) => [key(s.tail.topic, s.tail.partition), s]));
  const consumer = kafka.consumer({
    groupId: `${groupPrefix}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`,
    allowAutoTopicCreation: false,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    retry: { retries: 3 },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await talking('connecting a consumer to Kafka', () => consumer.connect());
    const withData = [...new Set(scans.map((s) => s.tail.topic))];
    await talking('subscribing to the topics', () => consumer.subscribe({ topics: withData, fromBeginning: false }));
    let remaining = scans.length;
    let fail: (error: unknown) => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      fail = reject;
      // Progress, for batches with data and for those holding only markers or aborted
      // records (kafkajs does not call eachBatch for those): the last offset fetched.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const s = byKey.get(key(payload.topic, payload.partition));
        if (s === undefined || s.done || payload.lastOffset === null) return;
        if (Number(payload.lastOffset) >= s.tail.high - 1) {
          s.done = true;
          if (--remaining === 0) resolve();
        }
      });
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const s = byKey.get(key(batch.topic, batch.partition));
            if (s === undefined || s.done) return;
            for (const message of batch.messages) {
              const offset = Number(message.offset);
              if (offset < s.from || offset >= s.tail.high) continue;
              if (s.found === null || offset > s.found.offset) s.found = { offset, headers: message.headers, value: message.value };
            }
          },
        })
        .then(() => {
          for (const s of scans) consumer.seek({ topic: s.tail.topic, partition: s.tail.partition, offset: String(s.from) });
        })
        .catch(reject);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
    await talking('reading the last record of each partition', () =>
      Promise.race([
        finished,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${remaining} partition(s) did not deliver their last committed record within ${timeoutMs} ms`)),
            Math.max(0, deadline - Date.now()),
          );
        }),
      ]),
    );
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
