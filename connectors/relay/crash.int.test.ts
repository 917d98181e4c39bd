// The relay's restart guarantee on a real broker: 100 000 events appended while
// the relay runs in a child process that is SIGKILLed and restarted 3 times at
// random moments. Afterwards every event is in Kafka exactly once, in the
// partition of its stream, and each stream's events are in revision order.
//
//   eval "$(infra/local/up)"; npx vitest run connectors/relay/crash.int.test.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { samples } from '../../streams/catalog/fixtures.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import type { NewEvent } from '../../streams/eventstore/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { createKafkaClient, ensureTopics, headerOf, partitionOf, topicNames } from '../../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, readCommitted, uniquePrefix } from '../../streams/kafka/testing.ts';

const infra = kafkaInfra();
const dir = mkdtempSync(join(tmpdir(), 'novacron-relay-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOTAL = Number(process.env['RELAY_CRASH_EVENTS'] ?? 100_000);
const KILLS = 3;
const PARTITIONS = 12;

/** Streams of every category, each with event types of its own. */
const kinds: { category: string; count: number; types: (keyof typeof samples)[] }[] = [
  { category: 'tenant', count: 150, types: ['TenantQuotaChanged', 'TenantCreated', 'TenantSuspended', 'TenantReactivated'] },
  { category: 'vm', count: 900, types: ['VmStarted', 'VmStopped', 'VmCreated', 'VmResized', 'VmPaused', 'VmResumed'] },
  { category: 'node', count: 200, types: ['NodeCordoned', 'NodeUncordoned', 'CapacityReserved', 'CapacityCommitted'] },
  { category: 'region', count: 30, types: ['RegionUpdated'] },
  { category: 'cluster', count: 100, types: ['ClusterHealthReported'] },
  { category: 'forecast', count: 20, types: ['CapacityShortfallForecast'] },
];
const streams = kinds.flatMap((kind) => Array.from({ length: kind.count }, (_, i) => ({ id: `${kind.category}-s${i}`, types: kind.types })));

function eventsFor(stream: (typeof streams)[number], n: number, seq: number): NewEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const type = stream.types[(seq + i) % stream.types.length] as keyof typeof samples;
    return { type, data: samples[type], metadata: { tenantId: 't1', actor: 'system:test' } };
  });
}

interface RelayChild {
  process: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
}

describe.runIf(infra.run)('relay restart guarantee (Kafka + schema registry)', () => {
  it(`publishes ${TOTAL} events exactly once and in stream order while SIGKILLed and restarted ${KILLS} times`, { timeout: 180_000 }, async () => {
    const started = performance.now();
    const prefix = uniquePrefix('relay-crash');
    const kafka = createKafkaClient({ brokers: infra.brokers() });
    await ensureTopics({ kafka, prefix, partitions: PARTITIONS, replication: 1 });
    const path = join(dir, 'events.db');
    const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
    const store = createSqliteEventStore({ path, codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }), sync: 'normal' });

    let published = 0;
    let stderr = '';
    const restarts: number[] = []; // ms from each spawn to its first acknowledged batch
    const fixture = fileURLToPath(new URL('./relay-child.fixture.ts', import.meta.url));
    const spawnRelay = (): RelayChild => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, path, prefix, join(dir, 'relay.lock')], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
      const spawnedAt = performance.now();
      let first = true;
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const report = JSON.parse(line) as { published?: number };
        if (report.published !== undefined) {
          published = Math.max(published, report.published);
          if (first) restarts.push(Math.round(performance.now() - spawnedAt));
          first = false;
        }
      });
      return { process: child, exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code))) };
    };
    const waitFor = async (what: string, condition: () => boolean, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; relay stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    // Kill points: random positions the relay must have published past, spread over the run.
    const killAt = Array.from({ length: KILLS }, (_, i) => Math.floor(((i + 0.2 + Math.random() * 0.6) / (KILLS + 1)) * TOTAL)).sort((a, b) => a - b);
    let relay = spawnRelay();
    const kills: { at: number; published: number }[] = [];
    const killer = (async () => {
      for (const at of killAt) {
        await waitFor(`the relay to publish past ${at}`, () => published >= at);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 30)); // somewhere inside a later batch
        kills.push({ at, published });
        relay.process.kill('SIGKILL');
        expect(await relay.exited).toBe('SIGKILL');
        relay = spawnRelay();
      }
    })();

    // The appender: streams appended to in random order, 1 to 8 events at a time, paced so
    // that appends and relay restarts overlap.
    const revisions = new Map<string, number>();
    let appended = 0;
    let seq = 0;
    while (appended < TOTAL) {
      const wave: Promise<unknown>[] = [];
      for (let i = 0; i < 100 && appended < TOTAL; i++) {
        const stream = streams[Math.floor(Math.random() * streams.length)] as (typeof streams)[number];
        const n = Math.min(TOTAL - appended, 1 + Math.floor(Math.random() * 8));
        appended += n;
        revisions.set(stream.id, (revisions.get(stream.id) ?? 0) + n);
        wave.push(store.append(stream.id, eventsFor(stream, n, seq++)));
      }
      await Promise.all(wave);
      // Never far ahead of the relay: restarts then happen while appends go on.
      while (appended - published > 20_000) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const appendedAt = performance.now();
    await killer;
    await waitFor('the relay to publish everything', () => published >= TOTAL, 120_000);
    const publishedAt = performance.now();
    relay.process.kill('SIGKILL');
    await relay.exited;
    expect(kills).toHaveLength(KILLS);

    // Exactly once: the partitions hold TOTAL committed records in all (and below, each position
    // once), read with isolation read_committed to each partition's end (offsets count the
    // transaction markers and aborted records too, so high − low is no record count).
    const committed = await readCommitted(kafka, topicNames(prefix), 120_000);
    expect(committed).toHaveLength(TOTAL);
    const seen = new Map<number, { topic: string; partition: number; offset: number; streamId: string; revision: number }>();
    let duplicates = 0;
    for (const { topic, partition, message } of committed) {
      const position = Number(headerOf(message.headers, 'position'));
      if (seen.has(position)) duplicates++;
      seen.set(position, { topic, partition, offset: Number(message.offset), streamId: message.key?.toString() ?? '', revision: Number(headerOf(message.headers, 'revision')) });
    }
    const consumedAt = performance.now();

    expect(duplicates).toBe(0);
    expect(seen.size).toBe(TOTAL);
    const stored = await store.readAll({ maxCount: TOTAL + 1, raw: true });
    expect(stored).toHaveLength(TOTAL);
    const byPartition = new Map<string, { offset: number; position: number; streamId: string; revision: number }[]>();
    for (const event of stored) {
      const record = seen.get(event.position);
      expect(record, `position ${event.position}`).toBeDefined();
      if (record === undefined) continue;
      expect(record.streamId).toBe(event.streamId);
      expect(record.revision).toBe(event.revision);
      expect(record.partition).toBe(partitionOf(event.streamId, PARTITIONS));
      const key = `${record.topic}/${record.partition}`;
      let list = byPartition.get(key);
      if (list === undefined) byPartition.set(key, (list = []));
      list.push({ offset: record.offset, position: event.position, streamId: event.streamId, revision: event.revision });
    }
    // In each partition, offsets follow positions, and each stream's revisions run 0, 1, 2… in offset order.
    const outOfOrder: string[] = [];
    for (const [key, list] of byPartition) {
      const byOffset = [...list].sort((a, b) => a.offset - b.offset);
      byOffset.forEach((r, i) => {
        if (i > 0 && r.position <= (byOffset[i - 1] as (typeof byOffset)[number]).position) outOfOrder.push(`${key}@${r.offset}`);
      });
      const next = new Map<string, number>();
      for (const r of byOffset) {
        if (r.revision !== (next.get(r.streamId) ?? 0)) outOfOrder.push(`${r.streamId}@${r.revision}`);
        next.set(r.streamId, r.revision + 1);
      }
    }
    expect(outOfOrder).toEqual([]);
    const perStream = new Map<string, number>();
    for (const event of stored) perStream.set(event.streamId, (perStream.get(event.streamId) ?? 0) + 1);
    expect(perStream).toEqual(revisions);

    const seconds = (t: number) => ((t - started) / 1000).toFixed(1);
    console.log(
      `relay crash test: ${TOTAL} events, kills after ${kills.map((k) => k.published).join(', ')}; appended by ${seconds(appendedAt)} s, ` +
        `all in Kafka by ${seconds(publishedAt)} s (${Math.round(TOTAL / ((publishedAt - started) / 1000))} events/s overall, restarts included; ` +
        `${Math.round(TOTAL / ((publishedAt - started - restarts.reduce((a, b) => a + b, 0)) / 1000))} events/s without the restarts, which took ${restarts.join(', ')} ms from spawn to first batch), verified by ${seconds(consumedAt)} s`,
    );
    await store.close();
    keys.close();
    await dropTopics(kafka, prefix);
  });
});
