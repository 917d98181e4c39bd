import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { configRejection } from './testing/config-rejection.ts';

describe('loadConfig: Kafka settings', () => {
  it('reads the brokers, the registry, the topic prefix, partitions and replication', () => {
    const { kafka } = loadConfig({
      NOVACRON_KAFKA_BROKERS: '127.0.0.1:9092, kafka-2.internal:19092,[::1]:9094',
      NOVACRON_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7/',
      NOVACRON_KAFKA_TOPIC_PREFIX: 'test-1a2b.novacron',
      NOVACRON_KAFKA_PARTITIONS: '3',
      NOVACRON_KAFKA_REPLICATION: '3',
    });
    expect(kafka).toEqual({
      brokers: ['127.0.0.1:9092', 'kafka-2.internal:19092', '[::1]:9094'],
      schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
      topicPrefix: 'test-1a2b.novacron',
      partitions: 3,
      replication: 3,
      security: { ssl: false, caPath: undefined, sasl: null },
    });
  });

  it.each([
    ['NOVACRON_KAFKA_BROKERS', 'localhost'],
    ['NOVACRON_KAFKA_BROKERS', 'a:1,b:99999'],
    ['NOVACRON_KAFKA_BROKERS', ','],
    ['NOVACRON_SCHEMA_REGISTRY_URL', 'ftp://registry'],
    ['NOVACRON_SCHEMA_REGISTRY_URL', 'registry:8081'],
    ['NOVACRON_KAFKA_TOPIC_PREFIX', 'my topics'],
    ['NOVACRON_KAFKA_TOPIC_PREFIX', 'x'.repeat(201)],
    ['NOVACRON_KAFKA_PARTITIONS', '0'],
    ['NOVACRON_KAFKA_PARTITIONS', 'twelve'],
    ['NOVACRON_KAFKA_REPLICATION', '0'],
  ])('rejects %s=%s with NC_CONFIG_INVALID naming the variable', (name, value) => {
    const env: Record<string, string> = { NOVACRON_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', [name]: value };
    expect(configRejection(() => loadConfig(env)).details).toEqual({ variable: name });
  });

  it('needs the schema registry when Kafka is configured', () => {
    expect(() => loadConfig({ NOVACRON_KAFKA_BROKERS: '127.0.0.1:9092' })).toThrow(/^NOVACRON_SCHEMA_REGISTRY_URL must be set when NOVACRON_KAFKA_BROKERS is/);
  });
});
