// Issue 11, "Must show": after API keys, tokens and tenants with personal data are
// made and the tenants deleted, a scan of every record of the Kafka topics and of
// every row of the ClickHouse tables finds no API key secret, no JWT secret and no
// plaintext personal field of a deleted tenant: not even of one whose events were
// stored in plaintext by a release before encryption (raw reads seal them).
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../streams/catalog/index.ts';
import { openClickHouse } from '../streams/clickhouse/client.ts';
import { clickhouseInfra, dropDatabase, uniqueDatabase } from '../streams/clickhouse/testing.ts';
import { createKeyStore, createPersonalDataCipher } from '../streams/crypto/index.ts';
import { createSqliteEventStore } from '../streams/eventstore/sqlite/store.ts';
import type { EventCodec } from '../streams/eventstore/port.ts';
import { createKafkaClient, ensureTopics } from '../streams/kafka/index.ts';
import { dropSubjects, dropTopics, kafkaInfra, readCommitted, uniquePrefix, waitUntil } from '../streams/kafka/testing.ts';
import { fleetApp, seedApi } from './testing/fleet-app.ts';
import { randomBytes } from 'node:crypto';

const kafka = kafkaInfra();
const clickhouse = clickhouseInfra();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** What an older release did: personal fields stored as given, not encrypted. */
const plaintextCodec = (): EventCodec => {
  const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
  const real = createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) });
  return { ...real, encode: (type, data) => ({ data: defaultCatalog().normalize(type, data), schemaVersion: defaultCatalog().version(type) }) };
};

describe.runIf(kafka.run && clickhouse.run)('no secret and no personal data of a deleted tenant downstream (Kafka + ClickHouse)', () => {
  it('scans every Kafka record and every ClickHouse row after keys, tokens and deleted tenants', { timeout: 120_000 }, async () => {
    const prefix = uniquePrefix('secrets');
    const database = uniqueDatabase('secrets');
    const client = createKafkaClient({ brokers: kafka.brokers() });
    await ensureTopics({ kafka: client, prefix, partitions: 2, replication: 1 });
    cleanups.push(() => dropTopics(client, prefix), () => dropSubjects(kafka.registryUrl(), prefix), () => dropDatabase(clickhouse.url(), database));

    const f = await fleetApp({
      NOVACRON_KAFKA_BROKERS: kafka.brokers().join(','),
      NOVACRON_SCHEMA_REGISTRY_URL: kafka.registryUrl(),
      NOVACRON_KAFKA_TOPIC_PREFIX: prefix,
      NOVACRON_KAFKA_PARTITIONS: '2',
      NOVACRON_CLICKHOUSE_URL: clickhouse.url(),
      NOVACRON_CLICKHOUSE_DATABASE: database,
    });
    cleanups.push(() => f.close());
    await seedApi(f, { nodes: 1 });

    // A tenant made through the API (encrypted at write), and one whose creation an older release stored in plaintext.
    const goneEmail = `owner-${randomBytes(4).toString('hex')}@gone.example`;
    const legacyEmail = `owner-${randomBytes(4).toString('hex')}@legacy.example`;
    await f.setup('POST', '/v1/tenants', { id: 'gone', name: 'Gone Ltd', contactEmail: goneEmail, quota: { vms: 2, vcpus: 8, memoryMiB: 8192, diskGiB: 100 }, allowedRegions: ['eu-west'] });
    const legacyStore = createSqliteEventStore({ path: join(f.dataDir, 'events.db'), codec: plaintextCodec(), sync: 'normal' });
    await legacyStore.append('tenant-legacy', [
      { type: 'TenantCreated', data: { tenantId: 'legacy', name: 'Legacy Ltd', contactEmail: legacyEmail, quota: { vms: 2, vcpus: 8, memoryMiB: 8192, diskGiB: 100 }, allowedRegions: ['eu-west'] }, metadata: { tenantId: 'legacy' } },
    ], { expectedRevision: 'no_stream' });
    await legacyStore.close();

    const key = (await f.app.inject({ method: 'POST', url: '/v1/tenants/acme/api-keys', headers: { ...f.operator, 'idempotency-key': 'key-1' }, payload: { role: 'tenant-admin', name: 'ci' } })).json() as { key: string };
    expect(key.key).toMatch(/^nck_/);
    const keySecret = key.key.split('_').at(-1) as string;
    expect((await f.app.inject({ method: 'GET', url: '/v1/vms', headers: { 'x-api-key': key.key } })).statusCode).toBe(200);
    const jwtSecret = readFileSync(join(f.dataDir, 'jwt.secret'), 'utf8').trim();
    expect(jwtSecret.length).toBeGreaterThan(20);

    for (const id of ['gone', 'legacy']) {
      const deleted = await f.app.inject({ method: 'DELETE', url: `/v1/tenants/${id}`, headers: f.operator });
      expect(deleted.statusCode, deleted.body).toBe(200);
    }
    const head = await f.platform.store.headPosition();
    await waitUntil('the relay to publish the head', async () => (await f.app.inject({ method: 'GET', url: '/metrics' })).body, (m) => new RegExp(`novacron_relay_published_position ${head}\\b`).test(m), 60_000);
    expect(await f.platform.projections.waitFor('analytics', head, 60_000)).toBe(true);

    const admin = client.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.disconnect();
    const records = await waitUntil('every event on Kafka', () => readCommitted(client, topics), (r) => r.length >= head, 60_000);
    expect(records.length).toBe(head); // every event, so the scan below saw the tenants' records too
    const kafkaBytes = Buffer.concat(records.flatMap(({ message }) => [message.key ?? Buffer.alloc(0), message.value ?? Buffer.alloc(0), ...Object.values(message.headers ?? {}).map((v) => Buffer.from(String(v)))]));

    const reader = openClickHouse({ url: clickhouse.url() });
    let clickhouseText = '';
    try {
      const tables = await reader.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${database}'`);
      expect(tables.length).toBeGreaterThan(0);
      for (const { name } of tables) clickhouseText += JSON.stringify(await reader.query(`SELECT * FROM ${database}.${name}`));
    } finally {
      await reader.close();
    }
    expect(clickhouseText).toContain('ncpii:'); // the personal fields are there, encrypted

    for (const [what, text] of [['Kafka', kafkaBytes.toString('latin1')], ['ClickHouse', clickhouseText]] as const) {
      for (const [secret, name] of [[keySecret, 'API key secret'], [jwtSecret, 'JWT secret'], [goneEmail, 'personal field of a deleted tenant'], [legacyEmail, 'plaintext-stored personal field of a deleted tenant']] as const) {
        expect(text.includes(secret), `${what} holds the ${name}`).toBe(false);
      }
    }
  });
});
