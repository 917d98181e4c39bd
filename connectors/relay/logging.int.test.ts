/**
 * The relay's log on a real broker: kafkajs's entries come through the relay's own
 * logger, and a clean start logs nothing at error level (the coordinator lookups
 * every start makes are at most info).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { samples } from '../../streams/catalog/fixtures.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { createKafkaClient, createRegistrySchemas, createSchemaRegistry, ensureTopics, type Log } from '../../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, uniquePrefix, waitUntil } from '../../streams/kafka/testing.ts';
import { createRelay } from './relay.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-relay-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(infra.run)('relay logging (Kafka + schema registry)', () => {
  it('a clean start and stop logs no error; kafkajs entries go through the same logger', { timeout: 90_000 }, async () => {
    const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
    const at = (level: string) => (fields: object, message: string) => void lines.push({ level, fields: fields as Record<string, unknown>, message });
    const log: Log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const prefix = uniquePrefix('relaylog');
    const kafka = createKafkaClient({ brokers: infra.brokers(), log });
    await ensureTopics({ kafka, prefix, partitions: 2, replication: 1 });
    const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
    const store = createSqliteEventStore({ path: join(dir, 'events.db'), codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }), sync: 'normal', pollIntervalMs: 20 });
    try {
      await store.append('region-eu-west', [{ type: 'RegionAdded', data: samples.RegionAdded, metadata: { actor: 'operator:test' } }]);
      const url = infra.registryUrl();
      const relay = createRelay({ store, kafka, schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() }), topicPrefix: prefix, log });
      await relay.start();
      await waitUntil('published', () => relay.status(), (s) => s.published === 1);
      await relay.stop();
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      // kafkajs spoke (its info chatter at debug), through this logger.
      expect(lines.some((l) => l.fields.component === 'kafkajs')).toBe(true);
      for (const line of lines.filter((l) => l.fields.component === 'kafkajs' && /coordinator is not available/.test(String(l.fields.error ?? l.message)))) {
        expect(['debug', 'info']).toContain(line.level);
      }
    } finally {
      await store.close();
      keys.close();
      await dropTopics(kafka, prefix);
    }
  });
});
