/**
 * For the *.int.test.ts suites that need Kafka and the schema registry
 * (`eval "$(infra/local/up)"`): they are skipped when NOVACRON_KAFKA_BROKERS or
 * NOVACRON_SCHEMA_REGISTRY_URL is unset, unless NOVACRON_REQUIRE_INFRA=1, when
 * they fail naming the variable. Each test uses its own topic prefix, hence its
 * own topics and subjects.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { topicNames } from './topics.ts';

const REQUIRE = process.env['NOVACRON_REQUIRE_INFRA'] === '1';

function variable(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function required(name: string): string {
  const value = variable(name);
  if (value === undefined) throw new Error(`${name} is not set but NOVACRON_REQUIRE_INFRA=1: start the services with eval "$(infra/local/up)"`);
  return value;
}

export interface KafkaInfra {
  /** Whether the suite runs: both variables set, or NOVACRON_REQUIRE_INFRA=1. */
  run: boolean;
  brokers(): string[];
  registryUrl(): string;
}

export function kafkaInfra(): KafkaInfra {
  const present = variable('NOVACRON_KAFKA_BROKERS') !== undefined && variable('NOVACRON_SCHEMA_REGISTRY_URL') !== undefined;
  return {
    run: present || REQUIRE,
    brokers: () => required('NOVACRON_KAFKA_BROKERS').split(',').map((b) => b.trim()),
    registryUrl: () => required('NOVACRON_SCHEMA_REGISTRY_URL').replace(/\/+$/, ''),
  };
}

/** A topic prefix no other test (or run) uses: `test.<name>.<time><random>`. */
export const uniquePrefix = (name: string): string => `test.${name}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

/**
 * Deletes the topics of `prefix`, and their subjects on the registry of
 * NOVACRON_SCHEMA_REGISTRY_URL (it keeps its schemas, in PostgreSQL: a test's
 * subjects would otherwise pile up run after run). Ids are never reused.
 */
export async function dropTopics(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = topicNames(prefix).filter((t) => existing.has(t));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
  const url = variable('NOVACRON_SCHEMA_REGISTRY_URL');
  // Best effort: a registry that is down leaves a few subjects behind, not a failed test.
  if (url !== undefined) await dropSubjects(url, prefix).catch(() => undefined);
}

/** Deletes (soft, then permanently) every subject of the topics of `prefix` on the registry at `url`. */
export async function dropSubjects(url: string, prefix: string): Promise<void> {
  const base = url.replace(/\/+$/, '');
  const response = await fetch(`${base}/subjects`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) return;
  const topics = topicNames(prefix);
  const subjects = ((await response.json()) as unknown[]).filter((s): s is string => typeof s === 'string' && topics.some((t) => s.startsWith(`${t}-`)));
  for (const subject of subjects) {
    const path = `${base}/subjects/${encodeURIComponent(subject)}`;
    await fetch(path, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
    await fetch(`${path}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  }
}

export interface CommittedRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/**
 * Every committed record of the topics (isolation read_committed: no aborted
 * records, no transaction markers), read from the start up to each partition's
 * end as it is now (the last stable offset). Offsets count markers and aborted
 * records too, so high − low is no record count on topics written in transactions.
 */
export async function readCommitted(kafka: Kafka, topics: readonly string[], timeoutMs = 60_000): Promise<CommittedRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  try {
    for (const topic of topics) for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) if (Number(high) > Number(low)) ends.set(`${topic}\u0000${partition}`, Number(high));
  } finally {
    await admin.disconnect();
  }
  const records: CommittedRecord[] = [];
  if (ends.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `verify.${randomBytes(6).toString('hex')}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set([...ends.keys()].map((k) => k.split('\u0000')[0] as string))], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`readCommitted: ${ends.size} partition(s) not read to their end within ${timeoutMs} ms`)), timeoutMs);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const k = `${payload.topic}\u0000${payload.partition}`;
        const end = ends.get(k);
        if (end !== undefined && payload.lastOffset !== null && Number(payload.lastOffset) >= end - 1) {
          ends.delete(k);
          if (ends.size === 0) resolve();
        }
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(`${batch.topic}\u0000${batch.partition}`);
            if (end === undefined) return;
            for (const message of batch.messages) if (Number(message.offset) < end) records.push({ topic: batch.topic, partition: batch.partition, message });
          },
        })
        .catch(reject);
    });
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  return records;
}

/** Reads until `done` holds (every 20 ms), then returns what was read; throws naming `what` and the last value after `timeoutMs`. */
export async function waitUntil<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
