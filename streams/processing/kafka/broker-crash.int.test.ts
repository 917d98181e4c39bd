// A Kafka broker killed (kill -9) and restarted under a workload: a private
// single-node broker of this test's own (infra/local/kafka with its own state
// dir and ports; the shared one is never touched), the relay publishing the
// event store's log into it, and two Kafka-fed processors in this process.
// While the broker is down their status says so (NC_KAFKA_UNAVAILABLE); once
// it is ready again they resume within 10 s (session timeout 6 s: the members
// from before the crash leave the group quickly), their status is clean, and
// the projections equal a fresh replay of the log.
//
//   eval "$(infra/local/up)"; npx vitest run streams/processing/kafka/broker-crash.int.test.ts
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelay } from '../../../connectors/relay/relay.ts';
import { createRoutingProjection } from '../../../projections/routing/index.ts';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import { isNovaCronError } from '../../errors/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { createSqliteEventStore } from '../../eventstore/sqlite/store.ts';
import { createEventSerde, createKafkaClient, createRegistrySchemas, createSchemaRegistry, ensureTopics } from '../../kafka/index.ts';
import { kafkaInfra, uniquePrefix } from '../../kafka/testing.ts';
import { createProjectionHost } from '../host.ts';
import { createKafkaEventDecoder } from './decoder.ts';
import { createKafkaProjectionHost } from './host.ts';
import { dumpTables, fleetWorkload, ledgerProjection, type Append } from './testing.ts';

const run = promisify(execFile);
const infra = kafkaInfra();
const script = fileURLToPath(new URL('../../../infra/local/kafka', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'novacron-broker-crash-'));
const infraDir = join(dir, 'infra');
const env = { ...process.env, NOVACRON_INFRA_DIR: infraDir, NOVACRON_KAFKA_PORT: String(19_400 + Math.floor(Math.random() * 400)) };
const kafkaScript = (command: string) => run('bash', [script, command], { env, timeout: 240_000, maxBuffer: 4 << 20 });
const brokerPid = () => Number(readFileSync(join(infraDir, 'kafka', 'kafka.pid'), 'utf8').trim().split(/\s+/)[0]);

afterAll(async () => {
  await kafkaScript('stop').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function appendAll(store: EventStore, appends: readonly Append[], pause = 0): Promise<void> {
  for (const [i, { streamId, events }] of appends.entries()) {
    await store.append(streamId, events);
    if (pause > 0 && i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

describe.runIf(infra.run)('a Kafka broker crash under Kafka-fed processors (private broker + schema registry)', () => {
  it('kill -9 and restart: the processors resume within 10 s of the broker being ready, show the outage while it lasts, and end equal to a replay', { timeout: 420_000 }, async () => {
    await kafkaScript('start');
    await kafkaScript('wait');
    const brokers = [(await kafkaScript('env')).stdout.trim().replace(/^export NOVACRON_KAFKA_BROKERS=/, '')];
    const prefix = uniquePrefix('broker-crash');
    const catalog = defaultCatalog();
    const url = infra.registryUrl();
    const kafka = createKafkaClient({ brokers, clientId: 'novacron-broker-crash-test' });
    await ensureTopics({ kafka, prefix, partitions: 3, replication: 1 });

    const keys = createKeyStore({ path: join(dir, 'keys.db'), masterKey: randomBytes(32) });
    const codec = createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) });
    const store = createSqliteEventStore({ path: join(dir, 'events.db'), codec, sync: 'normal', pollIntervalMs: 20 });
    const schemas = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
    const relay = createRelay({ store, kafka, schemas, topicPrefix: prefix, backoff: { initialMs: 100, maxMs: 1000 } });
    const projections = () => [ledgerProjection(catalog.types), createRoutingProjection()];
    const names = ['ledger', 'routing-table'];
    const commits: Array<{ name: string; at: number }> = [];
    const host = createKafkaProjectionHost({
      dir: join(dir, 'projections'),
      projections: projections(),
      consume: names,
      kafka,
      topicPrefix: prefix,
      groupPrefix: `${prefix}.processor`,
      decoder: createKafkaEventDecoder({ serde: createEventSerde({ schemas, topicPrefix: prefix }), codec, catalog }),
      source: store,
      sync: 'normal',
      statusTimeoutMs: 2_000,
      onCommit: (name) => commits.push({ name, at: performance.now() }),
    });

    const { setup, vms } = fleetWorkload({ vms: 300 });
    // Half before the processors start, a quarter streamed live while the broker is
    // killed, and the last quarter appended while it is down, so that there is always
    // something to publish and apply after the restart (however fast the live quarter went).
    const half = Math.floor(vms.length / 2);
    const threeQuarters = Math.floor((vms.length * 3) / 4);
    try {
      await appendAll(store, [...setup, ...vms.slice(0, half)]);
      await relay.start();
      await host.start();
      const caughtUp = async () => {
        const head = await store.headPosition();
        return (await relay.status()).published === head && (await host.status()).every((s) => s.lag === 0 && s.head > 0);
      };
      await until('the processors to catch up before the crash', caughtUp, 120_000);

      // The rest is appended as a steady stream; the broker is killed in the middle of it.
      const appending = appendAll(store, vms.slice(half, threeQuarters), 40);
      await until('some live events to be applied', () => commits.length > 0 && commits.at(-1)!.at > performance.now() - 1_000, 30_000);
      process.kill(brokerPid(), 'SIGKILL');
      const killed = performance.now();

      // While the broker is down the status says so: NC_KAFKA_UNAVAILABLE (a 503), never a stale "running".
      let outage: unknown = null;
      await until(
        'the status to show the outage',
        async () => {
          outage = await host.status().then(
            () => null,
            (error: unknown) => error,
          );
          return outage !== null;
        },
        30_000,
      );
      expect(isNovaCronError(outage, 'NC_KAFKA_UNAVAILABLE')).toBe(true);
      // The relay's status follows the brokers too, whether or not its next send has failed yet.
      // Its sends take ~20 s of kafkajs retries to fail; the status must not wait for them.
      let relayOutage = await relay.status();
      await until('the relay to show the outage', async () => (relayOutage = await relay.status()).state !== 'running', 30_000);
      const relayShownMs = performance.now() - killed;
      console.log(`relay status showed the outage ${relayShownMs.toFixed(0)} ms after the kill (${relayOutage.state})`);
      expect(relayOutage).toMatchObject({ state: expect.stringMatching(/^(disconnected|retrying)$/), lastError: { code: 'NC_KAFKA_UNAVAILABLE' } });
      expect(relayShownMs).toBeLessThan(10_000);
      await appending;
      await appendAll(store, vms.slice(threeQuarters));

      const restarting = performance.now();
      await kafkaScript('start');
      await kafkaScript('wait');
      const ready = performance.now();

      // Every processor applies events again within 10 s of the broker being ready. The
      // clients may reconnect before the script's readiness poll answers: a commit between
      // the restart and "ready" counts as resuming at once.
      const resumed = (name: string) => commits.find((c) => c.name === name && c.at > restarting);
      await until('every processor to commit after the restart', () => names.every((name) => resumed(name) !== undefined), 60_000);
      const resumedMs = Math.max(0, ...names.map((name) => resumed(name)!.at - ready));
      console.log(`processors resumed ${resumedMs.toFixed(0)} ms after the broker was ready`);
      expect(resumedMs).toBeLessThan(10_000);

      await until('the relay and the processors to catch up after the restart', caughtUp, 120_000);
      // Clean after: no error left behind, nothing parked.
      expect(await relay.status()).toMatchObject({ state: 'running', lastError: null });
      for (const s of await host.status()) expect(s).toMatchObject({ state: 'running', error: null, failures: 0, parked: 0, lag: 0 });

      const head = await store.headPosition();
      await host.stop();
      await relay.stop();
      const replayDir = join(dir, 'replay');
      const replay = createProjectionHost({ dir: replayDir, source: store, projections: projections(), sync: 'normal' });
      await replay.start();
      for (const name of names) expect(await replay.waitFor(name, head, 60_000)).toBe(true);
      await replay.stop();
      for (const name of names) {
        const fromKafka = new Database(join(dir, 'projections', `${name}.g1.db`), { readonly: true });
        const fromLog = new Database(join(replayDir, `${name}.g1.db`), { readonly: true });
        const tables = dumpTables(fromKafka);
        expect(Object.keys(tables).length).toBeGreaterThan(0);
        expect(tables).toEqual(dumpTables(fromLog));
        fromKafka.close();
        fromLog.close();
      }
    } finally {
      await host.stop().catch(() => undefined);
      await relay.stop().catch(() => undefined);
      await store.close();
      keys.close();
    }
  });
});
