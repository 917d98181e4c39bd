/** Kafka clients and the relay as the Kafka settings (api/config.ts) describe them. */
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { defaultCatalog, type Catalog } from '../../streams/catalog/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { createKafkaClient, createRegistrySchemas, createSchemaRegistry, silentLog, type KafkaSettings, type Log, type RegistrySchemas } from '../../streams/kafka/index.ts';
import { createRelay, type Relay, type RelayOptions } from './relay.ts';

function required(value: string | undefined, variable: string): string {
  if (value === undefined) {
    throw new NovaCronError('NC_CONFIG_INVALID', `${variable} must be set to use Kafka (e.g. ${variable === 'NOVACRON_KAFKA_BROKERS' ? '127.0.0.1:9092' : 'http://127.0.0.1:8081'})`, {
      details: { variable },
    });
  }
  return value;
}

export function kafkaClients(settings: KafkaSettings, { log = silentLog, catalog = defaultCatalog(), clientId = 'novacron' }: { log?: Log; catalog?: Catalog; clientId?: string } = {}): { kafka: Kafka; schemas: RegistrySchemas } {
  const brokers = settings.brokers ?? [required(undefined, 'NOVACRON_KAFKA_BROKERS')];
  const url = required(settings.schemaRegistryUrl, 'NOVACRON_SCHEMA_REGISTRY_URL');
  return {
    kafka: createKafkaClient({ brokers, clientId, log, security: settings.security }),
    schemas: createRegistrySchemas({ registry: createSchemaRegistry(url, clientId), url, catalog }),
  };
}

/** The lock file of the relay of `dataDir`'s event store for one topic prefix. */
export const relayLockPath = (dataDir: string, topicPrefix: string): string => join(dataDir, `relay.${topicPrefix}.lock`);

export function createRelayFromSettings({
  store,
  settings,
  dataDir,
  log = silentLog,
  ...rest
}: { store: EventStore; settings: KafkaSettings; dataDir: string; log?: Log } & Pick<RelayOptions, 'onBatch' | 'onFailed'>): Relay {
  const { kafka, schemas } = kafkaClients(settings, { log, clientId: 'novacron-relay' });
  return createRelay({ store, kafka, schemas, topicPrefix: settings.topicPrefix, lockPath: relayLockPath(dataDir, settings.topicPrefix), log, ...rest });
}
