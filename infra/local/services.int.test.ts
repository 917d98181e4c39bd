// Smoke tests of the real engines that infra/local/up starts: each talks to one
// service through the client library NovaCron uses for it, on fresh names
// (random topic, subject, database, key prefix) so runs never collide.
//
//   eval "$(infra/local/up)"; NOVACRON_REQUIRE_INFRA=1 npx vitest run infra/local
//
// A service whose variable is unset is skipped, unless NOVACRON_REQUIRE_INFRA=1:
// then its test fails, naming the variable.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage } from 'kafkajs';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';

const REQUIRE = process.env['NOVACRON_REQUIRE_INFRA'] === '1';

/** The service's address, or undefined when unset (the suite is then skipped unless required). */
function serviceEnv(variable: string): string | undefined {
  const value = process.env[variable]?.trim();
  return value ? value : undefined;
}

/** Throws the message CI shows when a required service's variable is missing. */
function required(variable: string, value: string | undefined): string {
  if (value === undefined) {
    throw new Error(`${variable} is not set but NOVACRON_REQUIRE_INFRA=1: start the services with eval "$(infra/local/up)"`);
  }
  return value;
}

const suffix = (): string => `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

function suiteFor(variable: string): { value: string | undefined; run: boolean } {
  const value = serviceEnv(variable);
  return { value, run: value !== undefined || REQUIRE };
}

const kafkaEnv = suiteFor('NOVACRON_KAFKA_BROKERS');
describe.runIf(kafkaEnv.run)('Kafka (kafkajs)', () => {
  it('creates a topic, produces a keyed record with headers (idempotent producer) and consumes it in a group', async () => {
    const brokers = required('NOVACRON_KAFKA_BROKERS', kafkaEnv.value).split(',');
    const kafka = new Kafka({ clientId: 'novacron-smoke', brokers, logLevel: logLevel.ERROR });
    const topic = `novacron.smoke-${suffix()}.events`;
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    let consumer: Consumer | undefined;
    await admin.connect();
    try {
      // auto.create.topics.enable=false: topics exist only when created.
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);

      await producer.connect();
      const [ack] = await producer.send({
        topic,
        acks: -1,
        messages: [{ key: 'vm-1', value: JSON.stringify({ type: 'VmCreated', cores: 4 }), headers: { eventId: 'e-1', type: 'VmCreated' } }],
      });
      expect(ack?.errorCode).toBe(0);

      consumer = kafka.consumer({ groupId: `novacron-smoke-${suffix()}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<KafkaMessage>((resolve) => {
        void consumer!.run({ eachMessage: async ({ message }) => resolve(message) });
      });
      const message = await Promise.race([
        received,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no record consumed within 20 s')), 20_000)),
      ]);
      expect(message.key?.toString()).toBe('vm-1');
      expect(JSON.parse(message.value!.toString())).toEqual({ type: 'VmCreated', cores: 4 });
      expect(message.headers?.['eventId']?.toString()).toBe('e-1');
    } finally {
      await consumer?.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
});

const registryEnv = suiteFor('NOVACRON_SCHEMA_REGISTRY_URL');
describe.runIf(registryEnv.run)('Schema registry (Confluent API, @kafkajs/confluent-schema-registry)', () => {
  it('registers an Avro schema on a fresh subject and round-trips a record in the Confluent wire format', async () => {
    const url = required('NOVACRON_SCHEMA_REGISTRY_URL', registryEnv.value).replace(/\/+$/, '');
    const subject = `novacron.smoke-${suffix()}-value`;
    const v1 = {
      type: 'record',
      name: 'VmCreated',
      namespace: 'dev.novacron.smoke',
      fields: [
        { name: 'vmId', type: 'string' },
        { name: 'cores', type: 'int' },
      ],
    };

    // register() compares the subject's level with its own `compatibility` option
    // (default BACKWARD) and throws on a mismatch: set the subject's rule first.
    const config = await fetch(`${url}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    expect(config.status).toBe(200);

    const registry = new SchemaRegistry({ host: url, clientId: 'novacron-smoke' });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    expect(id).toBeGreaterThan(0);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);

    const record = { vmId: 'vm-1', cores: 4 };
    const encoded = await registry.encode(id, record);
    expect(encoded[0]).toBe(0); // magic byte
    expect(encoded.readInt32BE(1)).toBe(id); // 4-byte schema id, big-endian
    // A fresh client has no cache: it fetches the writer schema by id.
    expect(await new SchemaRegistry({ host: url }).decode(encoded)).toEqual(record);

    // BACKWARD evolution: a new field with a default is accepted, one without is refused.
    const v2 = { ...v1, fields: [...v1.fields, { name: 'region', type: 'string', default: 'eu-1' }] };
    const { id: id2 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    expect(id2).not.toBe(id);
    const v3 = { ...v1, fields: [...v2.fields, { name: 'zone', type: 'string' }] };
    await expect(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v3) }, { subject, compatibility: COMPATIBILITY.BACKWARD })).rejects.toThrow();
  });
});

const clickhouseEnv = suiteFor('NOVACRON_CLICKHOUSE_URL');
describe.runIf(clickhouseEnv.run)('ClickHouse (@clickhouse/client, JSONEachRow)', () => {
  it('answers SELECT version() and runs CREATE/INSERT/SELECT on a fresh database', async () => {
    const url = required('NOVACRON_CLICKHOUSE_URL', clickhouseEnv.value);
    const client = createClient({ url });
    const db = `novacron_smoke_${suffix()}`;
    try {
      const version = await (await client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' })).json<{ version: string }>();
      expect(version[0]?.version).toMatch(/^\d+\.\d+/);

      await client.command({ query: `CREATE DATABASE ${db}` });
      await client.command({
        query: `CREATE TABLE ${db}.vm_usage (tenant_id String, vm_id String, cores UInt16, at DateTime) ENGINE = MergeTree ORDER BY (tenant_id, at)`,
      });
      await client.insert({
        table: `${db}.vm_usage`,
        columns: ['tenant_id', 'vm_id', 'cores', 'at'],
        format: 'JSONEachRow',
        values: [
          { tenant_id: 't1', vm_id: 'vm-1', cores: 4, at: '2026-01-01 10:15:00' },
          { tenant_id: 't1', vm_id: 'vm-2', cores: 2, at: 1767262500 }, // unix seconds: 2026-01-01 10:15:00 UTC
          { tenant_id: 't2', vm_id: 'vm-3', cores: 8, at: '2026-01-01 11:00:00' },
        ],
      });
      const rows = await (
        await client.query({
          query: `SELECT tenant_id, toUnixTimestamp(toStartOfHour(at)) AS hour, sum(cores) AS cores, count() AS vms FROM ${db}.vm_usage GROUP BY tenant_id, hour ORDER BY tenant_id, hour`,
          format: 'JSONEachRow',
        })
      ).json<{ tenant_id: string; hour: number; cores: string | number; vms: string | number }>();
      // UInt64 results arrive as strings in JSON (output_format_json_quote_64bit_integers).
      expect(rows.map((r) => [r.tenant_id, r.hour, Number(r.cores), Number(r.vms)])).toEqual([
        ['t1', 1767261600, 6, 2],
        ['t2', 1767265200, 8, 1],
      ]);
    } finally {
      await client.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => {});
      await client.close();
    }
  });
});

const redisEnv = suiteFor('NOVACRON_REDIS_URL');
describe.runIf(redisEnv.run)('Redis (ioredis)', () => {
  it('sets and gets a key under a random prefix', async () => {
    const url = required('NOVACRON_REDIS_URL', redisEnv.value);
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
    const key = `novacron:smoke:${suffix()}:vm-1`;
    try {
      await redis.connect();
      expect(await redis.set(key, 'running', 'EX', 60)).toBe('OK');
      expect(await redis.get(key)).toBe('running');
      expect(await redis.ttl(key)).toBeGreaterThan(0);
    } finally {
      await redis.del(key).catch(() => 0);
      redis.disconnect();
    }
  });
});
