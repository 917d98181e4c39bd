// `novacron kafka init` against a real broker and registry: topics created with
// the configured layout, idempotent, a clear error for a topic with other
// settings; every schema registered, BACKWARD set per subject, history first.
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../catalog/index.ts';
import { isNovaCronError } from '../errors/index.ts';
import { createKafkaClient, createSchemaRegistry } from './client.ts';
import { ensureTopics, initKafka } from './init.ts';
import { createRegistrySchemas } from './schemas.ts';
import { dropTopics, kafkaInfra, uniquePrefix } from './testing.ts';
import { subjectOf, TOPIC_EVENT_TYPES, topicName, topicNames } from './topics.ts';

const infra = kafkaInfra();

describe.runIf(infra.run)('novacron kafka init (Kafka + schema registry)', () => {
  const prefixes: string[] = [];
  const kafka = () => createKafkaClient({ brokers: infra.brokers() });
  afterAll(async () => {
    if (!infra.run) return;
    for (const prefix of prefixes) await dropTopics(kafka(), prefix).catch(() => undefined);
  });

  it('creates the three topics with the configured partitions and replication, registers every schema, and can run again', async () => {
    const prefix = uniquePrefix('init');
    prefixes.push(prefix);
    const url = infra.registryUrl();
    const schemas = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() });
    const first = await initKafka({ kafka: kafka(), schemas, prefix, partitions: 3, replication: 1 });
    expect(first.topics).toEqual(topicNames(prefix).map((topic) => ({ topic, partitions: 3, replication: 1, created: true })));
    expect(first.subjects.map((s) => s.subject).sort()).toEqual(
      Object.entries(TOPIC_EVENT_TYPES)
        .flatMap(([key, types]) => types.map((type) => subjectOf(topicName(prefix, key as 'vm'), type)))
        .sort(),
    );

    // The topic configuration NovaCron relies on.
    const admin = kafka().admin();
    await admin.connect();
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topicName(prefix, 'vm'), configNames: ['retention.ms', 'max.message.bytes'] }] });
    await admin.disconnect();
    expect(Object.fromEntries(resources[0]?.configEntries.map((e) => [e.configName, e.configValue]) ?? [])).toEqual({ 'retention.ms': '-1', 'max.message.bytes': '4194304' });

    // Each subject has its own BACKWARD rule; VmResized's subject holds v1 then v2.
    const subject = subjectOf(topicName(prefix, 'vm'), 'VmResized');
    const config = (await (await fetch(`${url}/config/${encodeURIComponent(subject)}`)).json()) as { compatibilityLevel?: string; compatibility?: string };
    expect(config.compatibilityLevel ?? config.compatibility).toBe('BACKWARD');
    const versions = (await (await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`)).json()) as number[];
    expect(versions).toHaveLength(2);
    const v1 = (await (await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions/${versions[0]}`)).json()) as { id: number; schema: string };
    expect(JSON.parse(v1.schema).fields.map((f: { name: string }) => f.name)).toEqual(['vmId', 'from', 'to']);
    const resized = first.subjects.find((s) => s.subject === subject);
    expect(resized?.ids.get(1)).toBe(v1.id);

    // Again, from a fresh process's point of view: nothing created, the same ids.
    const again = await initKafka({ kafka: kafka(), schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() }), prefix, partitions: 3, replication: 1 });
    expect(again.topics.map((t) => t.created)).toEqual([false, false, false]);
    expect(again.subjects.find((s) => s.subject === subject)?.ids).toEqual(resized?.ids);
    expect((await (await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`)).json()) as number[]).toHaveLength(2);
  });

  it('refuses a topic that exists with another partition count, naming the topic and the variables', async () => {
    const prefix = uniquePrefix('init-mismatch');
    prefixes.push(prefix);
    await ensureTopics({ kafka: kafka(), prefix, partitions: 2, replication: 1 });
    let caught: unknown;
    try {
      await ensureTopics({ kafka: kafka(), prefix, partitions: 4, replication: 1 });
    } catch (error) {
      caught = error;
    }
    expect(isNovaCronError(caught, 'NC_KAFKA_TOPIC_MISMATCH')).toBe(true);
    expect((caught as Error).message).toMatch(new RegExp(`^topic ${topicName(prefix, 'tenant').replace(/\./g, '\\.')} exists with 2 partitions and replication factor 1, but NovaCron is configured for 4 partitions \\(NOVACRON_KAFKA_PARTITIONS\\)`));
  });
});
