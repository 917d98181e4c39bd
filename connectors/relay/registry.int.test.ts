// The relay and the Kafka-fed processors around the schema registry, on a real
// broker: a private Apicurio with its schemas in PostgreSQL (infra/local), killed
// (SIGKILL, by PID) and restarted during a workload, under a running relay and a
// running processor; and a relay refusing ids that resolve to other schemas.
//
//   eval "$(infra/local/up)"; npx vitest run connectors/relay/registry.int.test.ts
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createRoutingProjection } from '../../projections/routing/index.ts';
import { createShardMapProjection } from '../../projections/shard-map/index.ts';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import type { EventStore, RecordedEvent } from '../../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { createEventSerde, createKafkaClient, createRegistrySchemas, createSchemaRegistry, ensureTopics, headerOf, topicNames, type RegistrySchemas } from '../../streams/kafka/index.ts';
import { startPrivateRegistry, type PrivateRegistry } from '../../streams/kafka/private-registry.fixture.ts';
import { dropTopics, kafkaInfra, readCommitted, uniquePrefix, waitUntil } from '../../streams/kafka/testing.ts';
import { createProjectionHost } from '../../streams/processing/host.ts';
import { createKafkaEventDecoder } from '../../streams/processing/kafka/decoder.ts';
import { createKafkaProjectionHost, type KafkaProjectionHost } from '../../streams/processing/kafka/host.ts';
import { dumpTables, fleetWorkload, ledgerProjection, type Append } from '../../streams/processing/kafka/testing.ts';
import { createRelay, type Relay } from './relay.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PARTITIONS = 4;

async function appendAll(store: EventStore, appends: readonly Append[], pause = 0): Promise<void> {
  for (const [i, { streamId, events }] of appends.entries()) {
    await store.append(streamId, events);
    if (pause > 0 && i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** A port nothing listens on, in a range of its own (the script moves up from it when taken). */
const privatePort = () => 18_100 + Math.floor(Math.random() * 800);

describe.runIf(infra.run)('the schema registry restarted under the relay and the processors (Kafka + private registry on PostgreSQL)', () => {
  it('a registry SIGKILLed and restarted mid-workload keeps its ids: every record decodes to its header type, published exactly once, projections equal a rebuild', { timeout: 600_000 }, async () => {
    const prefix = uniquePrefix('registry-restart');
    const catalog = defaultCatalog();
    const kafka = createKafkaClient({ brokers: infra.brokers(), clientId: 'novacron-registry-restart-test' });
    const registry: PrivateRegistry = await startPrivateRegistry({ stateDir: join(dir, 'infra'), port: privatePort() });
    const url = registry.url;
    const schemasOf = (): RegistrySchemas => createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });

    const keys = createKeyStore({ path: join(dir, 'keys.db'), masterKey: randomBytes(32) });
    const codec = createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) });
    const store = createSqliteEventStore({ path: join(dir, 'events.db'), codec, sync: 'normal', pollIntervalMs: 20 });
    const projectionsDir = join(dir, 'projections');
    const hostOf = (consume: string[]): KafkaProjectionHost =>
      createKafkaProjectionHost({
        dir: projectionsDir,
        projections: [ledgerProjection(catalog.types), createRoutingProjection(), createShardMapProjection()],
        consume,
        kafka,
        topicPrefix: prefix,
        groupPrefix: `${prefix}.processor`,
        // Each host its own registry client, so what it decodes comes from the registry, not from a writer's cache.
        decoder: createKafkaEventDecoder({ serde: createEventSerde({ schemas: schemasOf(), topicPrefix: prefix }), codec, catalog }),
        source: store,
        sync: 'normal',
        batchSize: 50,
      });
    const relayOf = (): Relay => createRelay({ store, kafka, schemas: schemasOf(), topicPrefix: prefix, maxBatch: 100, backoff: { initialMs: 100, maxMs: 1_000 } });

    const ledgerHost = hostOf(['ledger']);
    let projectionsHost: KafkaProjectionHost | null = null;
    let relay = relayOf();
    let appending: Promise<void> = Promise.resolve();
    try {
      await ensureTopics({ kafka, prefix, partitions: PARTITIONS, replication: 1 });
      const { setup, vms } = fleetWorkload({ vms: 450 });
      const third = Math.floor(vms.length / 3);
      await appendAll(store, [...setup, ...vms.slice(0, third)]);
      await relay.start();
      await ledgerHost.start();
      await waitUntil('the ledger processor to apply some events', async () => (await ledgerHost.status())[0]!.processed, (n) => n > 0, 90_000);

      // Under a steady stream of appends: the registry is SIGKILLed while the relay and the ledger processor run.
      appending = appendAll(store, vms.slice(third, 2 * third), 40);
      const publishedBefore = (await relay.status()).published;
      await registry.kill();
      // Both keep going without the registry: the relay encodes with the ids it checked at its start,
      // the processor decodes with the writer schemas it already fetched.
      await waitUntil('the relay to publish while the registry is down', () => relay.status(), (s) => s.published > publishedBefore && s.state === 'running', 60_000);

      // A relay session that starts while the registry is down (a relay restart) retries with backoff, NC_KAFKA_UNAVAILABLE.
      await relay.stop();
      relay = relayOf();
      await relay.start();
      const down = await waitUntil('the new relay session to retry', () => relay.status(), (s) => s.state === 'retrying' && s.lastError !== null, 60_000);
      expect(down.lastError?.code).toBe('NC_KAFKA_UNAVAILABLE');

      await registry.start();
      await appending;
      // The relay went on by itself once the registry answered again.
      await waitUntil('the relay to run again', () => relay.status(), (s) => s.state === 'running', 90_000);
      // A processor started after the restart reads every record from the start through the restarted
      // registry: with a registry that forgot its schemas it could decode nothing.
      projectionsHost = hostOf(['routing-table', 'shard-map']);
      await projectionsHost.start();
      await appendAll(store, vms.slice(2 * third), 20);
      const head = await store.headPosition();
      await waitUntil('the relay to publish everything', () => relay.status(), (s) => s.published === head, 120_000);
      for (const host of [ledgerHost, projectionsHost]) {
        const consumed = host.consumed;
        await waitUntil(`${consumed.join(', ')} to reach lag 0`, () => host.status(), (all) => all.filter((s) => consumed.includes(s.name)).every((s) => s.lag === 0 && s.head > 0), 180_000);
      }
      const statuses = [...(await ledgerHost.status()).filter((s) => s.name === 'ledger'), ...(await projectionsHost.status()).filter((s) => s.name !== 'ledger')];
      for (const s of statuses) expect(s).toMatchObject({ parked: 0, lag: 0 });

      // Every record on every topic: decoded by a fresh client (type header checked against the schema id and
      // the topic's subject) to the event the store holds at that position; each position exactly once.
      const records = await readCommitted(kafka, topicNames(prefix));
      const stored = new Map((await store.readAll({ raw: true })).map((e) => [e.position, e]));
      const reader = createEventSerde({ schemas: schemasOf(), topicPrefix: prefix });
      const positions: number[] = [];
      for (const { topic, message } of records) {
        const decoded = await reader.decode(message, topic);
        const original = stored.get(decoded.position) as RecordedEvent;
        expect(decoded.type).toBe(headerOf(message.headers, 'type'));
        expect({ type: decoded.type, streamId: decoded.streamId, revision: decoded.revision, data: decoded.data }).toEqual({
          type: original.type,
          streamId: original.streamId,
          revision: original.revision,
          data: JSON.parse(JSON.stringify(original.data)) as Record<string, unknown>,
        });
        positions.push(decoded.position);
      }
      positions.sort((a, b) => a - b);
      expect(positions).toEqual(Array.from({ length: head }, (_, i) => i + 1));

      // The Kafka-fed projections equal an embedded rebuild from the event store's log.
      const replayDir = join(dir, 'replay');
      const replay = createProjectionHost({ dir: replayDir, source: store, projections: [ledgerProjection(catalog.types), createRoutingProjection(), createShardMapProjection()], sync: 'normal' });
      await replay.start();
      for (const name of ['ledger', 'routing-table', 'shard-map']) expect(await replay.waitFor(name, head, 60_000)).toBe(true);
      await replay.stop();
      for (const name of ['ledger', 'routing-table', 'shard-map']) {
        const fromKafka = new Database(join(projectionsDir, `${name}.g1.db`), { readonly: true });
        const fromLog = new Database(join(replayDir, `${name}.g1.db`), { readonly: true });
        const tables = dumpTables(fromKafka);
        expect(Object.keys(tables).length).toBeGreaterThan(0);
        expect(tables, name).toEqual(dumpTables(fromLog));
        fromKafka.close();
        fromLog.close();
      }
      console.log(`registry restart: ${head} events, ${records.length} records; registry pid ${registry.pid()} after the restart, database ${registry.database}`);
    } finally {
      await appending.catch(() => undefined);
      await relay.stop().catch(() => undefined);
      await ledgerHost.stop().catch(() => undefined);
      await projectionsHost?.stop().catch(() => undefined);
      await store.close();
      keys.close();
      await dropTopics(kafka, prefix).catch(() => undefined);
      await registry.destroy();
    }
  });

  it('refuses to run (state failed, NC_SCHEMA_MISMATCH) when an id it would write resolves to another schema', { timeout: 120_000 }, async () => {
    const prefix = uniquePrefix('registry-ids');
    const catalog = defaultCatalog();
    const url = infra.registryUrl();
    const kafka = createKafkaClient({ brokers: infra.brokers(), clientId: 'novacron-registry-ids-test' });
    const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
    const store = createSqliteEventStore({ path: ':memory:', codec: createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) }) });
    const real = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
    // The ids a relay would hold after its registry lost its schemas and gave their ids to others:
    // VmStarted's and VmRestarted's swapped (the same shape, so records would decode as the wrong type).
    const subjects = await real.registerAll(prefix);
    const idOf = (type: string) => subjects.find((s) => s.type === type)!.ids.get(1)!;
    const swap = new Map([[idOf('VmStarted'), idOf('VmRestarted')], [idOf('VmRestarted'), idOf('VmStarted')]]);
    const stale = subjects.map((s) => ({ ...s, ids: new Map([...s.ids].map(([version, id]) => [version, swap.get(id) ?? id])) }));
    const schemas: RegistrySchemas = { ...real, registerAll: async () => stale };
    const relay = createRelay({ store, kafka, schemas, topicPrefix: prefix, backoff: { initialMs: 100, maxMs: 500 } });
    try {
      await ensureTopics({ kafka, prefix, partitions: 1, replication: 1 });
      await store.append('vm-a', [{ type: 'VmStarted', data: { vmId: 'a', nodeId: 'n1' } }]);
      await relay.start();
      const failed = await waitUntil('the relay to refuse', () => relay.status(), (s) => s.state === 'failed', 60_000);
      expect(failed.lastError?.code).toBe('NC_SCHEMA_MISMATCH');
      expect(failed.lastError?.message).toMatch(/schema id \d+, used for novacron\.events\.Vm(Started|Restarted) version 1 .* resolves to novacron\.events\.Vm(Restarted|Started)/);
      expect(failed.published).toBe(0);
      expect(await readCommitted(kafka, topicNames(prefix))).toHaveLength(0);
    } finally {
      await relay.stop();
      await store.close();
      keys.close();
      await dropTopics(kafka, prefix).catch(() => undefined);
    }
  });

  it('refuses to resume (NC_SCHEMA_MISMATCH) when the last record in Kafka carries an id that now resolves to another type', { timeout: 120_000 }, async () => {
    const prefix = uniquePrefix('registry-tails');
    const catalog = defaultCatalog();
    const url = infra.registryUrl();
    const kafka = createKafkaClient({ brokers: infra.brokers(), clientId: 'novacron-registry-tails-test' });
    const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
    const store = createSqliteEventStore({ path: ':memory:', codec: createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) }) });
    const schemas = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
    const relay = createRelay({ store, kafka, schemas, topicPrefix: prefix, backoff: { initialMs: 100, maxMs: 500 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      await ensureTopics({ kafka, prefix, partitions: 1, replication: 1 });
      const vm = { vmId: 'a', nodeId: 'n1' };
      await store.append('vm-a', [{ type: 'VmStarted', data: vm }, { type: 'VmRestarted', data: vm }]);
      const [started, restarted] = await store.readAll({ raw: true });
      const serde = createEventSerde({ schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog }), topicPrefix: prefix });
      const first = await serde.encode(started as RecordedEvent);
      const second = await serde.encode(restarted as RecordedEvent);
      // What Kafka holds after a registry gave VmStarted's id to VmRestarted: the store's first event,
      // its record carrying an id that now resolves to the other type.
      await producer.connect();
      await producer.send({ topic: first.topic, acks: -1, messages: [{ key: first.key, value: Buffer.concat([second.value.subarray(0, 5), first.value.subarray(5)]), headers: first.headers, partition: 0 }] });
      await relay.start();
      const failed = await waitUntil('the relay to refuse', () => relay.status(), (s) => s.state === 'failed', 60_000);
      expect(failed.lastError?.code).toBe('NC_SCHEMA_MISMATCH');
      expect(failed.lastError?.message).toMatch(/carried by the last record of .*\.vm\.events partition 0 \(position 1\) for novacron\.events\.VmStarted version 1, resolves to novacron\.events\.VmRestarted/);
      expect(await readCommitted(kafka, topicNames(prefix))).toHaveLength(1);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await relay.stop();
      await store.close();
      keys.close();
      await dropTopics(kafka, prefix).catch(() => undefined);
    }
  });
});
