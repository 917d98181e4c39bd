/**
 * `novacron kafka init`: creates NovaCron's topics up front and registers the
 * event schemas. Idempotent: a topic that exists with the configured
 * partitions and replication factor is fine; one with other settings is an
 * error naming it (its partition count decides where each stream lives).
 */
import type { Admin, Kafka } from 'kafkajs';
import { NovaCronError } from '../errors/index.ts';
import { talking } from './client.ts';
import type { RegisteredSubject, RegistrySchemas } from './schemas.ts';
import { topicNames } from './topics.ts';

export interface TopicLayout {
  topic: string;
  partitions: number;
  replication: number;
}

export interface TopicReport extends TopicLayout {
  created: boolean;
}

/** Topic configuration NovaCron creates its topics with (see the README, "Kafka"). */
export function topicConfig(replication: number): { name: string; value: string }[] {
  return [
    // The topics are a full copy of the log, and the relay finds where it stopped
    // from the last record of each partition: nothing may age out.
    { name: 'retention.ms', value: '-1' },
    { name: 'cleanup.policy', value: 'delete' },
    // One event is at most 1 MiB; the relay's requests hold at most ~1 MiB per partition.
    { name: 'max.message.bytes', value: String(4 * 1024 * 1024) },
    { name: 'min.insync.replicas', value: replication >= 3 ? '2' : '1' },
  ];
}

/** Partitions and replication factor of each of `topics` that exists. */
export async function describeTopics(admin: Admin, topics: readonly string[]): Promise<Map<string, TopicLayout>> {
  const existing = new Set(await talking('listing Kafka topics', () => admin.listTopics()));
  const present = topics.filter((t) => existing.has(t));
  const layouts = new Map<string, TopicLayout>();
  if (present.length === 0) return layouts;
  const { topics: metadata } = await talking('reading topic metadata', () => admin.fetchTopicMetadata({ topics: present }));
  for (const { name, partitions } of metadata) {
    layouts.set(name, { topic: name, partitions: partitions.length, replication: partitions[0]?.replicas.length ?? 0 });
  }
  return layouts;
}

function mismatch(found: TopicLayout, partitions: number, replication: number): NovaCronError {
  return new NovaCronError(
    'NC_KAFKA_TOPIC_MISMATCH',
    `topic ${found.topic} exists with ${found.partitions} partitions and replication factor ${found.replication}, ` +
      `but NovaCron is configured for ${partitions} partitions (NOVACRON_KAFKA_PARTITIONS) and replication factor ${replication} (NOVACRON_KAFKA_REPLICATION). ` +
      'The partition count decides which partition holds each stream, so it cannot change under existing data: set the variables to match the topic, or use another NOVACRON_KAFKA_TOPIC_PREFIX.',
    { details: { topic: found.topic, partitions: found.partitions, replication: found.replication, expected: { partitions, replication } } },
  );
}

/**
 * Waits until every partition of `topics` has a leader. (kafkajs's own wait
 * gives up when a busy broker still answers "unknown topic" just after creating it.)
 */
async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) {
      throw new NovaCronError('NC_KAFKA_UNAVAILABLE', `topics ${topics.join(', ')} have no leader ${timeoutMs} ms after their creation`, { retriable: true, details: { topics } });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Creates the missing topics of `prefix`; checks the existing ones. */
export async function ensureTopics({ kafka, prefix, partitions, replication }: { kafka: Kafka; prefix: string; partitions: number; replication: number }): Promise<TopicReport[]> {
  const admin = kafka.admin();
  await talking('connecting to Kafka', () => admin.connect());
  try {
    const topics = topicNames(prefix);
    const before = await describeTopics(admin, topics);
    for (const topic of topics) {
      const found = before.get(topic);
      if (found !== undefined && (found.partitions !== partitions || found.replication !== replication)) throw mismatch(found, partitions, replication);
    }
    const missing = topics.filter((t) => !before.has(t));
    if (missing.length > 0) {
      await talking(`creating topics ${missing.join(', ')}`, () =>
        admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: replication, configEntries: topicConfig(replication) })),
        }),
      );
      await waitForLeaders(admin, missing);
    }
    // Read back: another init may have created one at the same time, with its own settings.
    const after = await describeTopics(admin, topics);
    return topics.map((topic) => {
      const found = after.get(topic);
      if (found === undefined) {
        throw new NovaCronError('NC_KAFKA_TOPIC_MISMATCH', `topic ${topic} is still missing after creating it`, { details: { topic } });
      }
      if (found.partitions !== partitions || found.replication !== replication) throw mismatch(found, partitions, replication);
      return { ...found, created: missing.includes(topic) };
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface InitReport {
  topics: TopicReport[];
  subjects: RegisteredSubject[];
}

/** Topics, then every event schema under its subject, each id checked to resolve to it. */
export async function initKafka({
  kafka,
  schemas,
  prefix,
  partitions,
  replication,
}: {
  kafka: Kafka;
  schemas: RegistrySchemas;
  prefix: string;
  partitions: number;
  replication: number;
}): Promise<InitReport> {
  const topics = await ensureTopics({ kafka, prefix, partitions, replication });
  const subjects = await schemas.registerAll(prefix);
  // Each id must stand for its schema (NC_SCHEMA_MISMATCH otherwise), as the relay checks at every start.
  await schemas.verify(subjects);
  return { topics, subjects };
}
