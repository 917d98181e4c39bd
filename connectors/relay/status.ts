/**
 * `novacron kafka status`: what Kafka holds against the event store, read
 * from the topics themselves (works whether or not a relay runs here).
 */
import type { Kafka } from 'kafkajs';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { describeTopics, readTails, talking, topicNames } from '../../streams/kafka/index.ts';

export interface TopicStatus {
  topic: string;
  /** null when the topic does not exist. */
  partitions: number | null;
  /** Offsets its partitions span (high − low): records, and the relay's transaction markers and aborted records. */
  records: number;
  /** Highest position among the last records of its partitions (0 if empty). */
  lastPosition: number;
}

export interface KafkaStatus {
  topicPrefix: string;
  topics: TopicStatus[];
  /** Highest position in Kafka. */
  published: number;
  head: number;
  lag: number;
}

export async function readKafkaStatus({ kafka, store, topicPrefix }: { kafka: Kafka; store: EventStore; topicPrefix: string }): Promise<KafkaStatus> {
  const names = topicNames(topicPrefix);
  const admin = kafka.admin();
  await talking('connecting to Kafka', () => admin.connect());
  let layouts;
  try {
    layouts = await describeTopics(admin, names);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const present = names.filter((t) => layouts.has(t));
  const tails = await readTails(kafka, present, { groupPrefix: `${topicPrefix}.status` });
  const topics = names.map((topic) => {
    const mine = tails.filter((t) => t.topic === topic);
    return {
      topic,
      partitions: layouts.get(topic)?.partitions ?? null,
      records: mine.reduce((sum, t) => sum + (t.high - t.low), 0),
      lastPosition: Math.max(0, ...mine.map((t) => t.last?.position ?? 0)),
    };
  });
  const published = Math.max(0, ...topics.map((t) => t.lastPosition));
  const head = await store.headPosition();
  return { topicPrefix, topics, published, head, lag: Math.max(0, head - published) };
}

export function formatKafkaStatus(status: KafkaStatus): string {
  const rows = status.topics.map((t) => [t.topic, t.partitions === null ? 'missing (run novacron kafka init)' : String(t.partitions), String(t.records), String(t.lastPosition)]);
  const header = ['topic', 'partitions', 'records', 'last position'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const table = [header, ...rows].map((cols) => cols.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd());
  return [
    `relay  published ${status.published}  head ${status.head}  lag ${status.lag}`,
    '',
    ...table,
  ].join('\n');
}
