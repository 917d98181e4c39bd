/**
 * The last record of every partition of a set of topics: where the relay
 * finds what is already in Kafka. For each non-empty partition the record at
 * offset high watermark − 1 is fetched (one short-lived consumer, seeking each
 * partition there) and its `position` and `eventId` headers are read.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { NovaCronError } from '../errors/index.ts';
import { talking } from './client.ts';
import { headerOf } from './headers.ts';

export interface PartitionTail {
  topic: string;
  partition: number;
  /** Offsets: first kept, and the high watermark (the next offset to be written). */
  low: number;
  high: number;
  /** Headers of the record at high − 1; null for an empty partition. */
  last: { offset: number; position: number; eventId: string } | null;
}

export interface ReadTailsOptions {
  /** Consumer group name prefix (a random suffix is added; nothing is committed). */
  groupPrefix?: string;
  timeoutMs?: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export async function readTails(kafka: Kafka, topics: readonly string[], { groupPrefix = 'novacron.relay.tails', timeoutMs = 60_000 }: ReadTailsOptions = {}): Promise<PartitionTail[]> {
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

  const wanted = new Map(tails.filter((t) => t.high > t.low).map((t) => [key(t.topic, t.partition), t]));
  if (wanted.size === 0) return tails;

  const consumer = kafka.consumer({
    groupId: `${groupPrefix}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    retry: { retries: 3 },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await talking('connecting a consumer to Kafka', () => consumer.connect());
    const withData = [...new Set([...wanted.values()].map((t) => t.topic))];
    await talking('subscribing to the topics', () => consumer.subscribe({ topics: withData, fromBeginning: false }));
    let remaining = wanted.size;
    let fail: (error: unknown) => void = () => undefined;
    const found = new Promise<void>((resolve, reject) => {
      fail = reject;
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const tail = wanted.get(key(batch.topic, batch.partition));
            if (tail === undefined || tail.last !== null) return;
            const message = batch.messages.find((m) => Number(m.offset) === tail.high - 1);
            if (message === undefined) return;
            const position = Number(headerOf(message.headers, 'position'));
            const eventId = headerOf(message.headers, 'eventId');
            if (!Number.isSafeInteger(position) || position < 1 || eventId === undefined) {
              reject(
                new NovaCronError('NC_RELAY_DIVERGED', `${batch.topic} partition ${batch.partition} offset ${message.offset} has no position/eventId headers: the topic holds records the relay did not write`, {
                  details: { topic: batch.topic, partition: batch.partition, offset: message.offset },
                }),
              );
              return;
            }
            tail.last = { offset: tail.high - 1, position, eventId };
            if (--remaining === 0) resolve();
          },
        })
        .then(() => {
          for (const tail of wanted.values()) consumer.seek({ topic: tail.topic, partition: tail.partition, offset: String(tail.high - 1) });
        })
        .catch(reject);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
    await talking('reading the last record of each partition', () =>
      Promise.race([
        found,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${remaining} partition(s) did not deliver their last record within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]),
    );
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  return tails;
}
