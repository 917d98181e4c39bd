/**
 * Kafka settings, read from NOVACRON_* variables by api/config.ts (the one
 * place settings are read) and handed to streams/kafka and connectors/relay.
 */
export interface KafkaSettings {
  /** NOVACRON_KAFKA_BROKERS: bootstrap brokers (`host:port`); undefined when Kafka is not used (no relay). */
  brokers: string[] | undefined;
  /** NOVACRON_SCHEMA_REGISTRY_URL: base URL of the Confluent-compatible schema registry API. */
  schemaRegistryUrl: string | undefined;
  /** NOVACRON_KAFKA_TOPIC_PREFIX: topics are `<prefix>.<tenant|vm|capacity>.events`. */
  topicPrefix: string;
  /** NOVACRON_KAFKA_PARTITIONS: partitions of each topic `novacron kafka init` creates. */
  partitions: number;
  /** NOVACRON_KAFKA_REPLICATION: replication factor of each topic `novacron kafka init` creates. */
  replication: number;
}

export const DEFAULT_TOPIC_PREFIX = 'novacron';
export const DEFAULT_PARTITIONS = 12;
export const DEFAULT_REPLICATION = 1;

/** Kafka's legal topic characters; the prefix leaves room for `.capacity.events` within 249. */
export const TOPIC_PREFIX_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;
