import type { Admin, Kafka } from 'kafkajs';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { topicOf } from '../../kafka/index.ts';
import { generationFile, guardReplay, openGenerations, projectionNames, rowsOf, type ReplayOptions } from '../generations.ts';
import type { AnySqliteProjection } from '../projection.ts';
import type { ProjectionHost, ProjectionStatus } from '../projection-host.ts';
import { NovaCronError, isNovaCronError } from '../../errors/index.ts';
import { waitUntil, withTimeout } from '../wait-until.ts';
import { lazyAdmin } from './admin.ts';
import type { KafkaEventDecoder } from './decoder.ts';
import { lagOf, totals, watermarks, type PartitionLag } from './lag.ts';
import { createKafkaProcessorRunner, type KafkaProcessorRunner } from './runner.ts';
import { openKafkaStateStore, type KafkaStateStore } from './state.ts';
import { DEFAULT_GROUP_PREFIX, groupIdOf, topicsFor } from './topology.ts';

export interface KafkaProjectionHostOptions {
  /** Directory of the projection files (`<name>.g<generation>.db`) and the registry, shared with every process reading them. */
  dir: string;
  projections: readonly AnySqliteProjection[];
  /** Projections whose processors run in this process (as members of their consumer groups); the others are only read here. */
  consume: readonly string[];
  kafka: Kafka;
  topicPrefix: string;
  decoder: KafkaEventDecoder;
  /** The event store: resolves a bare position to its stream and revision (session reads). Without it `waitFor` answers false. */
  source?: EventStore;
  /** Consumer groups are `<groupPrefix>.<name>.g<generation>`. */
  groupPrefix?: string;
  sync?: 'full' | 'normal';
  batchSize?: number;
  sessionTimeoutMs?: number;
  /** Longest `status()` waits for the brokers' watermarks before it answers NC_KAFKA_UNAVAILABLE (default 3000). */
  statusTimeoutMs?: number;
  /** How often a wait polls the projection file for a stream's revision. */
  waitIntervalMs?: number;
  /** How often to look for a generation switched by another process. */
  watchIntervalMs?: number;
  onCommit?: (name: string, batch: readonly RecordedEvent[]) => void;
  onFenced?: (name: string, error: Error) => void;
  onError?: (name: string, error: unknown) => void;
}

export interface KafkaProjectionStatus extends ProjectionStatus {
  source: 'kafka';
  groupId: string;
  /** Batches this process dropped because another instance had applied their partition first. */
  fenced: number;
  /** Partitions this process is assigned (consumers here only). */
  assigned: Array<{ topic: string; partition: number }>;
  partitions: PartitionLag[];
}

export interface KafkaProjectionHost extends ProjectionHost {
  /** The projections whose processors run in this process. */
  readonly consumed: readonly string[];
  status(): Promise<KafkaProjectionStatus[]>;
}

interface Live {
  projection: AnySqliteProjection;
  generation: number;
  topics: string[];
  state: KafkaStateStore;
  runner: KafkaProcessorRunner | null;
  queries: unknown;
}

/**
 * The projections on the scale-out log: each processor a consumer group on
 * the category topics, its offsets and each stream's applied revision in its
 * SQLite file (streams/processing/kafka/state.ts). Processors named in
 * `consume` run here; every projection can be queried and waited on here,
 * whichever process runs its processor: a session read polls the file for
 * the stream's revision. Generations as the embedded host's: a replay builds
 * `g+1` in its own consumer group from the start of the topics while `g`
 * serves, then switches; the processes consuming `name` follow the switch.
 */
export function createKafkaProjectionHost({
  dir,
  projections,
  consume,
  kafka,
  topicPrefix,
  decoder,
  source,
  groupPrefix = DEFAULT_GROUP_PREFIX,
  sync = 'full',
  batchSize = 500,
  sessionTimeoutMs,
  statusTimeoutMs = 3_000,
  waitIntervalMs = 10,
  watchIntervalMs = 1000,
  onCommit,
  onFenced,
  onError,
}: KafkaProjectionHostOptions): KafkaProjectionHost {
  const names = projectionNames('createKafkaProjectionHost', projections);
  const unknown = consume.filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new RangeError(`unknown projection ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${names.join(', ')})`);
  const consumed = new Set(consume);
  const topicsOf = new Map(projections.map((p) => [p.name, topicsFor(p.name, p.handles, topicPrefix)]));
  const stopping = new AbortController();

  const admin = lazyAdmin(kafka);
  const adminClient = (): Promise<Admin> => admin.get();

  function runnerFor(projection: AnySqliteProjection, generation: number, state: KafkaStateStore): KafkaProcessorRunner {
    const { name } = projection;
    return createKafkaProcessorRunner({
      processor: {
        name,
        handles: projection.handles,
        apply: (batch, db) => projection.apply(batch, db),
        ...(projection.prepare && { prepare: (batch: readonly RecordedEvent[]) => projection.prepare!(batch, state.db) }),
      },
      state,
      kafka,
      groupId: groupIdOf(groupPrefix, name, generation),
      topics: topicsOf.get(name) as string[],
      decoder,
      admin: adminClient,
      batchSize,
      ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
      onCommit: (batch) => onCommit?.(name, batch),
      onFenced: (error) => onFenced?.(name, error),
      onError: (error) => onError?.(name, error),
    });
  }

  function open(projection: AnySqliteProjection, generation: number, { run }: { run: boolean }): Live {
    const state = openKafkaStateStore({ path: generationFile(dir, projection.name, generation), sync, migrate: (db) => projection.migrate(db) });
    return {
      projection,
      generation,
      topics: topicsOf.get(projection.name) as string[],
      state,
      runner: run ? runnerFor(projection, generation, state) : null,
      queries: projection.queries(state.db),
    };
  }

  async function startRunner(l: Live): Promise<void> {
    if (!l.runner) return;
    if (l.state.builtFromLog()) {
      throw new Error(
        `${l.projection.name} generation ${l.generation} was built by the embedded runner from the event store's log, so which Kafka offsets it has applied is unknown; ` +
          `rebuild it from Kafka with \`novacron replay ${l.projection.name}\` (with NOVACRON_KAFKA_PROCESSORS naming it) before running its processor from Kafka`,
      );
    }
    await l.runner.start();
  }

  async function retire(l: Live): Promise<void> {
    await l.runner?.stop();
    await l.state.close();
  }

  const generations = openGenerations<Live>({
    host: 'createKafkaProjectionHost',
    dir,
    projections,
    open: (projection, generation) => open(projection, generation, { run: consumed.has(projection.name) }),
    run: startRunner,
    retire,
    watchIntervalMs,
    onError,
  });
  const { entry } = generations;

  function readsStream(l: Live, streamId: string): boolean {
    try {
      return l.topics.includes(topicOf(topicPrefix, streamId));
    } catch {
      return false; // a category no topic carries
    }
  }

  async function statusOf(l: Live): Promise<KafkaProjectionStatus> {
    const base = { generation: l.generation, version: l.projection.version, source: 'kafka' as const, groupId: groupIdOf(groupPrefix, l.projection.name, l.generation) };
    if (l.runner) {
      const { assigned, partitions, fenced, ...rest } = await l.runner.status();
      return { ...rest, ...base, fenced, assigned, partitions };
    }
    const partitions = lagOf(await watermarks(await adminClient(), l.topics), l.state.offsets());
    return { name: l.projection.name, state: 'idle', ...totals(partitions), parked: await l.state.parkedCount(), processed: 0, error: null, failures: 0, ...base, fenced: 0, assigned: [], partitions };
  }

  const host: KafkaProjectionHost = {
    names,
    consumed: [...consume],
    start: () => generations.start(),
    async stop(): Promise<void> {
      stopping.abort();
      await generations.stop();
      await admin.close();
    },
    queries<Queries>(name: string): Queries {
      return entry(name).queries as Queries;
    },
    ordering: () => 'per-stream',
    /**
     * Resolves true once `name` has applied `streamId` up to `revision`,
     * polling the projection's file (its processor may run in another
     * process); false after `timeoutMs`.
     */
    waitForStream(name: string, streamId: string, revision: number, timeoutMs: number): Promise<boolean> {
      // A stream on none of the projection's topics changes nothing it shows: there is nothing to wait for.
      if (!readsStream(entry(name), streamId)) return Promise.resolve(true);
      return waitUntil(() => entry(name).state.appliedRevision(streamId) >= revision, { timeoutMs, intervalMs: waitIntervalMs, signal: stopping.signal });
    },
    /** A position names one event: waits for its stream's revision (found in the event store). */
    async waitFor(name: string, position: number, timeoutMs: number): Promise<boolean> {
      entry(name);
      if (position <= 0) return true;
      if (!source) return false;
      const [event] = await source.readAll({ fromPosition: position, maxCount: 1 });
      if (!event || event.position !== position) return false;
      return host.waitForStream(name, event.streamId, event.revision, timeoutMs);
    },
    /** Offsets applied, summed over partitions (Σ stored + 1). */
    checkpoint(name: string): number {
      return entry(name).state.offsets().reduce((sum, p) => sum + p.offset + 1, 0);
    },
    /**
     * Each projection's status; the lag needs the brokers' watermarks, so
     * with Kafka unreachable (or slower than `statusTimeoutMs`) this rejects
     * with NC_KAFKA_UNAVAILABLE (503), naming the outage, never a bare error.
     */
    async status(): Promise<KafkaProjectionStatus[]> {
      try {
        return await withTimeout(Promise.all(generations.all().map((l) => statusOf(l))), statusTimeoutMs);
      } catch (error) {
        if (isNovaCronError(error)) throw error;
        throw new NovaCronError('NC_KAFKA_UNAVAILABLE', `Kafka did not answer the processors' lag request (within ${statusTimeoutMs} ms, or with an error); their status is unknown until it does`, {
          retriable: true,
          cause: error,
        });
      }
    },
    /**
     * Rebuilds `name` into the next generation from the start of its topics
     * (a consumer group of its own) while the current one serves; once every
     * partition has reached the high watermark it had when the replay began,
     * switches to it. Processes consuming `name` follow the switch and go on
     * from the new generation's offsets. The topics must keep every event
     * (retention as `novacron kafka init` sets it).
     */
    async replay(name: string, { onProgress, force }: ReplayOptions = {}) {
      const { current, generation } = generations.beginNext(name);
      const next = open(current.projection, generation, { run: true });
      const began = performance.now();
      const targets = await watermarks(await adminClient(), next.topics);
      const total = targets.reduce((sum, t) => sum + (t.high - t.low), 0);
      const done = () => {
        const stored = new Map(next.state.offsets().map((o) => [`${o.topic}\u0000${o.partition}`, o.offset]));
        return targets.reduce((sum, t) => sum + Math.max(0, Math.min(t.high, (stored.get(`${t.topic}\u0000${t.partition}`) ?? -1) + 1) - t.low), 0);
      };
      const progress = setInterval(() => onProgress?.(done(), total), 200);
      try {
        await startRunner(next);
        while (!(await waitUntil(() => done() >= total, { timeoutMs: 1000, intervalMs: 20 }))) {
          const s = await (next.runner as KafkaProcessorRunner).status();
          if (s.state === 'failed') throw new Error(`replay of ${name} failed: ${s.error}`);
        }
        onProgress?.(total, total);
        guardReplay(name, { parked: await current.state.parkedCount(), rows: rowsOf(current.state.db) }, { parked: await next.state.parkedCount(), rows: rowsOf(next.state.db) }, { force });
      } catch (error) {
        await generations.discard(next);
        throw error;
      } finally {
        clearInterval(progress);
      }
      if (!(generations.started && consumed.has(name))) {
        await next.runner?.stop();
        next.runner = null;
      }
      await generations.promote(current, next);
      return { name, generation, events: total, seconds: (performance.now() - began) / 1000 };
    },
  };
  return host;
}
