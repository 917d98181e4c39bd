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
  /** NOVACRON_KAFKA_SSL, NOVACRON_KAFKA_CA, NOVACRON_KAFKA_SASL_MECHANISM and its user and password: how clients reach the brokers. */
  security: KafkaSecurity;
}

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

export interface KafkaSecurity {
  /** TLS to the brokers (NOVACRON_KAFKA_SSL=on, or NOVACRON_KAFKA_CA set). */
  ssl: boolean;
  /** NOVACRON_KAFKA_CA: PEM CA file the brokers' certificates are checked against (default: the system's CAs). */
  caPath: string | undefined;
  /** NOVACRON_KAFKA_SASL_MECHANISM with NOVACRON_KAFKA_SASL_USERNAME and NOVACRON_KAFKA_SASL_PASSWORD; null: no SASL. */
  sasl: { mechanism: (typeof SASL_MECHANISMS)[number]; username: string; password: string } | null;
}

export const NO_KAFKA_SECURITY: KafkaSecurity = { ssl: false, caPath: undefined, sasl: null };

export const DEFAULT_TOPIC_PREFIX = 'novacron';
export const DEFAULT_PARTITIONS = 12;
export const DEFAULT_REPLICATION = 1;

/** Kafka's legal topic characters; the prefix leaves room for `.capacity.events` within 249. */
export const TOPIC_PREFIX_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;
