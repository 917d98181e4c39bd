/**
 * For the *.int.test.ts suites that need Kafka and the schema registry
 * (`eval "$(infra/local/up)"`): they are skipped when NOVACRON_KAFKA_BROKERS or
 * NOVACRON_SCHEMA_REGISTRY_URL is unset, unless NOVACRON_REQUIRE_INFRA=1, when
 * they fail naming the variable. Each test uses its own topic prefix, hence its
 * own topics and subjects.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
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

/** Deletes the topics of `prefix` (their subjects stay: the local registry keeps them in memory only). */
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
}
