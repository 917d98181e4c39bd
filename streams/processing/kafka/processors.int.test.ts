// Processors as Kafka consumer groups, on a real broker and schema registry:
// two instances of one group in child processes, one SIGKILLed in the middle
// of a batch (inside its SQLite transaction) and restarted, the other paused
// (SIGSTOP) between fetch and commit until the group gave its partitions away,
// then resumed: a zombie whose batch the fence refuses. Meanwhile the relay
// publishes the event store's log and more events are appended. Afterwards
// every projection equals a fresh embedded replay of the event store's log,
// and a session wait in this process sees the children's commits.
//
//   eval "$(infra/local/up)"; npx vitest run streams/processing/kafka
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelay } from '../../../connectors/relay/relay.ts';
import { createRoutingProjection } from '../../../projections/routing/index.ts';
import { createShardMapProjection } from '../../../projections/shard-map/index.ts';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { createSqliteEventStore } from '../../eventstore/sqlite/store.ts';
import { createEventSerde, createKafkaClient, createRegistrySchemas, createSchemaRegistry, ensureTopics, topicOf } from '../../kafka/index.ts';
import { dropTopics, kafkaInfra, uniquePrefix } from '../../kafka/testing.ts';
import { createProjectionHost } from '../host.ts';
import { createKafkaEventDecoder } from './decoder.ts';
import { createKafkaProjectionHost } from './host.ts';
import { dumpTables, fleetWorkload, ledgerProjection, type Append } from './testing.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-kafka-processors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PARTITIONS = 6;
const NAMES = ['ledger', 'routing-table', 'shard-map'] as const;

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
  lines: Array<Record<string, unknown>>;
  commits: number;
  /** Set on each {"midBatch"} line, cleared on the commit that follows. */
  inBatch: boolean;
}

/** Appends in order; with `pause`, sleeps that long after every 20 appends (a steady stream of live events). */
async function appendAll(store: EventStore, appends: readonly Append[], pause = 0): Promise<void> {
  for (const [i, { streamId, events }] of appends.entries()) {
    await store.append(streamId, events);
    if (pause > 0 && i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

describe.runIf(infra.run)('processors as Kafka consumer groups (Kafka + schema registry)', () => {
  it('two instances, one SIGKILLed mid-batch, one made a zombie: the projections end equal to a replay of the log', { timeout: 240_000 }, async () => {
    const began = performance.now();
    const prefix = uniquePrefix('processors');
    const groupPrefix = `${prefix}.processor`;
    const catalog = defaultCatalog();
    const brokers = infra.brokers();
    const url = infra.registryUrl();
    const kafka = createKafkaClient({ brokers, clientId: 'novacron-processors-test' });
    await ensureTopics({ kafka, prefix, partitions: PARTITIONS, replication: 1 });

    const masterKey = randomBytes(32);
    const keysPath = join(dir, 'keys.db');
    const keys = createKeyStore({ path: keysPath, masterKey });
    const codec = createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) });
    const store = createSqliteEventStore({ path: join(dir, 'events.db'), codec, sync: 'normal', pollIntervalMs: 20 });
    const schemas = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
    const relay = createRelay({ store, kafka, schemas, topicPrefix: prefix, backoff: { initialMs: 100, maxMs: 1000 } });
    const projectionsDir = join(dir, 'projections');

    const { setup, vms } = fleetWorkload({ vms: 700 });
    const first = Math.floor(vms.length / 3);
    await appendAll(store, [...setup, ...vms.slice(0, first)]);
    await relay.start();

    let stderr = '';
    const fixture = fileURLToPath(new URL('./processor-child.fixture.ts', import.meta.url));
    const spawnChild = (name: string, { slowApplyMs = 0 } = {}): Child => {
      const options = { dir: projectionsDir, topicPrefix: prefix, groupPrefix, keysPath, masterKeyHex: masterKey.toString('hex'), partitions: PARTITIONS, slowApplyMs, decodeDelayMs: 500, batchSize: 60 };
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
      const entry: Child = { name, process: child, exited: new Promise((resolve) => child.on('close', (code, signal) => resolve(signal ?? code))), lines: [], commits: 0, inBatch: false };
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + `[${name}] ${chunk.toString()}`).slice(-6000)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const report = JSON.parse(line) as Record<string, unknown>;
        entry.lines.push(report);
        if (report['midBatch'] !== undefined) entry.inBatch = true;
        if (report['commit'] !== undefined) {
          entry.commits++;
          entry.inBatch = false;
        }
      });
      return entry;
    };
    const until = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; children's stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    // A reader in this process, as the API is: it runs none of the processors, it reads their files.
    const reader = createKafkaProjectionHost({
      dir: projectionsDir,
      projections: [ledgerProjection(catalog.types), createRoutingProjection(), createShardMapProjection()],
      consume: [],
      kafka,
      topicPrefix: prefix,
      groupPrefix,
      decoder: createKafkaEventDecoder({ serde: createEventSerde({ schemas, topicPrefix: prefix }), codec, catalog }),
      source: store,
      sync: 'normal',
    });
    const children: Child[] = [];
    let appending: Promise<void> = Promise.resolve();
    try {
      // 100 ms inside each transaction: wide enough that the SIGKILL lands while A is still in the batch it reported, on a loaded machine too.
      const a = spawnChild('A', { slowApplyMs: 100 });
      children.push(a);
      await until('A to commit', () => a.commits > 0);
      // The rest is appended (and relayed) as a steady stream while the group works.
      appending = appendAll(store, vms.slice(first), 150);
      const b = spawnChild('B');
      children.push(b);
      // B has partitions once it commits: the group has rebalanced to two members.
      await until('B to commit', () => b.commits > 0);
      const aBefore = a.commits;
      await until('A to commit after the rebalance', () => a.commits > aBefore);
      await until('A inside a batch', () => a.inBatch, 30_000);
      a.process.kill('SIGKILL');
      expect(await a.exited).toBe('SIGKILL');
      const killedMidBatch = a.inBatch; // its last line was {"midBatch"}: the transaction was open
      expect(killedMidBatch).toBe(true);
      const a2 = spawnChild('A2');
      children.push(a2);

      // B turned zombie: paused (SIGSTOP) between fetching a ledger batch and committing it, it loses its
      // partitions when its session times out; once another instance has applied that batch's records,
      // B is resumed, and its commit must be refused by the fence.
      await until('B to commit again', () => b.commits > 0);
      b.process.kill('SIGUSR1');
      await until('B to pause before decoding a ledger batch', () => b.lines.some((l) => l['decoding'] === 'ledger'), 60_000);
      b.process.kill('SIGSTOP');
      const paused = b.lines.find((l) => l['decoding'] === 'ledger') as { topic: string; partition: number; offset: number };
      const ledgerFile = new Database(join(projectionsDir, 'ledger.g1.db'), { readonly: true });
      const stored = () => ledgerFile.prepare<[string, number], { offset: number }>('SELECT "offset" FROM kafka_offsets WHERE topic = ? AND partition = ?').get(paused.topic, paused.partition)?.offset ?? -1;
      await until(`another instance to apply ${paused.topic}[${paused.partition}] past offset ${paused.offset}`, () => stored() >= paused.offset, 90_000);
      ledgerFile.close();
      b.process.kill('SIGCONT');
      await until("the zombie's batch to be fenced", () => b.lines.some((l) => l['fenced'] === 'ledger'), 30_000);
      await appending;
      const head = await store.headPosition();

      // Everything relayed, then applied: lag 0 for every processor (watermarks − offsets in the files).
      await until('the relay to publish everything', async () => (await relay.status()).published === head, 60_000);
      await until('every processor to reach lag 0', async () => (await reader.status()).every((s) => s.lag === 0 && s.head > 0), 120_000);
      const caughtUp = performance.now();

      // Session reads across processes: the last event's stream revision (and the same by position).
      const [last] = await store.readAll({ direction: 'backwards', maxCount: 1 });
      const lastEvent = last as RecordedEvent;
      for (const name of NAMES) {
        expect(await reader.waitForStream(name, lastEvent.streamId, lastEvent.revision, 5_000)).toBe(true);
        expect(await reader.waitFor(name, lastEvent.position, 5_000)).toBe(true);
      }
      expect(await reader.waitForStream('ledger', lastEvent.streamId, lastEvent.revision + 1, 50)).toBe(false);

      const statuses = await reader.status();
      for (const s of statuses) expect(s).toMatchObject({ source: 'kafka', generation: 1, parked: 0, lag: 0 });
      const ledgerStatus = statuses.find((s) => s.name === 'ledger')!;
      // Offsets, not events: the relay writes in transactions, so Σ high watermarks counts the
      // events plus a commit marker per transaction and partition (and any aborted records).
      expect(ledgerStatus.head).toBeGreaterThan(head);
      expect(ledgerStatus.checkpoint).toBe(ledgerStatus.head);

      for (const child of [b, a2]) child.process.kill('SIGTERM');
      expect(await Promise.all([b.exited, a2.exited]), `children's stderr: ${stderr}`).toEqual([0, 0]);

      // A fresh embedded replay of the event store's log, compared table by table.
      const replayDir = join(dir, 'replay');
      const replay = createProjectionHost({ dir: replayDir, source: store, projections: [ledgerProjection(catalog.types), createRoutingProjection(), createShardMapProjection()], sync: 'normal' });
      await replay.start();
      for (const name of NAMES) expect(await replay.waitFor(name, head, 60_000)).toBe(true);
      await replay.stop();
      for (const name of NAMES) {
        const fromKafka = new Database(join(projectionsDir, `${name}.g1.db`), { readonly: true });
        const fromLog = new Database(join(replayDir, `${name}.g1.db`), { readonly: true });
        const kafkaTables = dumpTables(fromKafka);
        expect(Object.keys(kafkaTables).length).toBeGreaterThan(0);
        expect(kafkaTables).toEqual(dumpTables(fromLog));
        // The generic per-stream revisions: the last revision of every stream on the projection's topics.
        const revisions = new Map(fromKafka.prepare<[], { stream_id: string; revision: number }>('SELECT stream_id, revision FROM stream_revisions').all().map((r) => [r.stream_id, r.revision]));
        const topics = new Set(statuses.find((s) => s.name === name)!.partitions.map((p) => p.topic));
        const expected = new Map<string, number>();
        for (const e of await store.readAll()) if (topics.has(topicOf(prefix, e.streamId))) expected.set(e.streamId, e.revision);
        expect(revisions).toEqual(expected);
        fromKafka.close();
        fromLog.close();
      }
      const ledger = new Database(join(projectionsDir, 'ledger.g1.db'), { readonly: true });
      expect((ledger.prepare('SELECT SUM(events) AS n FROM ledger').get() as { n: number }).n).toBe(head);
      ledger.close();

      const fenced = children.flatMap((c) => c.lines.filter((l) => l['fenced'] !== undefined));
      expect(fenced.length).toBeGreaterThan(0);
      const commits = children.reduce((sum, c) => sum + c.commits, 0);
      console.log(
        `kafka processors: ${head} events, ${PARTITIONS} partitions × 3 topics, 3 projections; A SIGKILLed mid-batch after ${a.commits} commits, B SIGSTOPped into a zombie; ` +
          `${commits} commits, ${fenced.length} fenced batches; caught up ${((caughtUp - began) / 1000).toFixed(1)} s after start`,
      );
    } finally {
      await appending.catch(() => undefined);
      for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await reader.stop();
      await relay.stop();
      await store.close();
      keys.close();
      await dropTopics(kafka, prefix).catch(() => undefined);
    }
  });
});
