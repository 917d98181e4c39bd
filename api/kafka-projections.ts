import { join } from 'node:path';
import type { Catalog } from '../streams/catalog/index.ts';
import { NovaCronError } from '../streams/errors/index.ts';
import type { EventCodec, EventStore, RecordedEvent } from '../streams/eventstore/index.ts';
import { createEventSerde, createKafkaClient, createRegistrySchemas, createSchemaRegistry, type Log } from '../streams/kafka/index.ts';
import type { AnySqliteProjection } from '../streams/processing/projection.ts';
import { createKafkaEventDecoder } from '../streams/processing/kafka/decoder.ts';
import { createKafkaProjectionHost, type KafkaProjectionHost } from '../streams/processing/kafka/host.ts';
import type { Config } from './config.ts';

/** The brokers and registry, or NC_CONFIG_INVALID saying what `doing` needs. */
export function requireKafka(config: Config, doing: string): { brokers: string[]; registryUrl: string } {
  const { brokers, schemaRegistryUrl } = config.kafka;
  if (brokers === undefined || schemaRegistryUrl === undefined) {
    const missing = brokers === undefined ? 'NOVACRON_KAFKA_BROKERS' : 'NOVACRON_SCHEMA_REGISTRY_URL';
    throw new NovaCronError(
      'NC_CONFIG_INVALID',
      `${doing} reads the log from Kafka: set NOVACRON_KAFKA_BROKERS and NOVACRON_SCHEMA_REGISTRY_URL (eval "$(infra/local/up)" starts both on this machine)`,
      { details: { variable: missing } },
    );
  }
  return { brokers, registryUrl: schemaRegistryUrl };
}

export interface KafkaProjectionsOptions {
  config: Config;
  projections: readonly AnySqliteProjection[];
  /** Those whose processors run in this process; the others are read only. */
  consume: readonly string[];
  catalog: Catalog;
  /** Decrypts personal data as the event store does (the key store of the data dir). */
  codec: EventCodec;
  /** For session reads by position (the API); processors do not need it. */
  store?: EventStore;
  clientId: string;
  log?: Log;
  onCommit?: (name: string, batch: readonly RecordedEvent[]) => void;
  onFenced?: (name: string, error: Error) => void;
  onError?: (name: string, error: unknown) => void;
}

/**
 * The projections fed from Kafka, wired from the settings: in the data dir's
 * `projections/` like the embedded ones (the API and the processors on one
 * machine share the files), consumer groups `novacron.processor.<name>.g<n>`
 * on the topics of NOVACRON_KAFKA_TOPIC_PREFIX.
 */
export function openKafkaProjections({ config, projections, consume, catalog, codec, store, clientId, log, onCommit, onFenced, onError }: KafkaProjectionsOptions): KafkaProjectionHost {
  const { brokers, registryUrl } = requireKafka(config, consume.length > 0 ? '--role processor' : 'NOVACRON_KAFKA_PROCESSORS');
  const kafka = createKafkaClient({ brokers, clientId, security: config.kafka.security, ...(log ? { log } : {}) });
  const schemas = createRegistrySchemas({ registry: createSchemaRegistry(registryUrl, clientId), url: registryUrl, catalog });
  const serde = createEventSerde({ schemas, topicPrefix: config.kafka.topicPrefix });
  return createKafkaProjectionHost({
    dir: join(config.dataDir, 'projections'),
    projections,
    consume,
    kafka,
    topicPrefix: config.kafka.topicPrefix,
    sessionTimeoutMs: config.kafkaSessionTimeoutMs,
    decoder: createKafkaEventDecoder({ serde, codec, catalog }),
    ...(store ? { source: store } : {}),
    sync: config.sqliteSync,
    ...(onCommit ? { onCommit } : {}),
    ...(onFenced ? { onFenced } : {}),
    ...(onError ? { onError } : {}),
  });
}
