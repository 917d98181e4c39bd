import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import type { AnySqliteProjection } from './projection.ts';
import type { ProjectionHost, ProjectionStatus } from './projection-host.ts';
import { openProjectionRegistry } from './registry.ts';
import { createProcessorRunner, type ProcessorRunner } from './runner.ts';
import { openSqliteStateStore, type SqliteStateStore } from './sqlite-state.ts';

export interface ProjectionHostOptions {
  /** Directory of the projection files (`<name>.g<generation>.db`) and the registry. */
  dir: string;
  source: EventStore;
  projections: readonly AnySqliteProjection[];
  sync?: 'full' | 'normal';
  /**
   * Most events a processor applies in one commit (default 5000). Large
   * batches make catching up and replays faster: each commit writes a page
   * of the projection once however many of the batch's events changed it.
   */
  batchSize?: number;
  /** How often to look for a generation switched by another process (a `novacron replay`). */
  watchIntervalMs?: number;
  /** After each commit of a processor: its name, new checkpoint and the batch (cache invalidation, metrics). */
  onCommit?: (name: string, checkpoint: number, batch: readonly RecordedEvent[]) => void;
  onError?: (name: string, error: unknown) => void;
}

export type { LogOrdering, ProjectionHost, ProjectionStatus } from './projection-host.ts';

interface Live {
  projection: AnySqliteProjection;
  generation: number;
  state: SqliteStateStore;
  runner: ProcessorRunner;
  queries: unknown;
}

const fileOf = (dir: string, name: string, generation: number) => join(dir, `${name}.g${generation}.db`);
const removeDb = (path: string) => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
};

/**
 * Runs the embedded projections: one processor and one SQLite file per
 * projection, the active generation of each from the registry, queries over
 * the active file, replays into a new generation while the old one serves.
 */
export function createProjectionHost({
  dir,
  source,
  projections,
  sync = 'full',
  batchSize = 5000,
  watchIntervalMs = 1000,
  onCommit,
  onError,
}: ProjectionHostOptions): ProjectionHost {
  const names = projections.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new TypeError(`createProjectionHost: duplicate projection names in ${names.join(', ')}`);
  mkdirSync(dir, { recursive: true });
  const registry = openProjectionRegistry(join(dir, 'registry.db'));
  const live = new Map<string, Live>();
  let started = false;
  let watcher: NodeJS.Timeout | null = null;

  function open(projection: AnySqliteProjection, generation: number, bulk = false): Live {
    const state = openSqliteStateStore({ path: fileOf(dir, projection.name, generation), sync, bulk, migrate: (db) => projection.migrate(db) });
    const runner = createProcessorRunner({
      processor: { name: projection.name, handles: projection.handles, apply: (batch, db) => projection.apply(batch, db) },
      source,
      state,
      batchSize,
      onCommit: (checkpoint, batch) => onCommit?.(projection.name, checkpoint, batch),
      onError: (error) => onError?.(projection.name, error),
    });
    return { projection, generation, state, runner, queries: projection.queries(state.db) };
  }

  for (const projection of projections) {
    const { generation } = registry.active(projection.name, projection.version);
    live.set(projection.name, open(projection, generation));
  }

  const entry = (name: string): Live => {
    const found = live.get(name);
    if (!found) throw new RangeError(`unknown projection ${JSON.stringify(name)} (known: ${names.join(', ')})`);
    return found;
  };

  /** Replaces the serving generation of `name` by `next` (already open and, if the host runs, running). */
  async function swap(name: string, next: Live): Promise<void> {
    const previous = entry(name);
    live.set(name, next);
    await previous.runner.stop();
    await previous.state.close();
  }

  async function followSwitches(): Promise<void> {
    for (const [name, current] of live) {
      const active = registry.current(name);
      if (active && active.generation !== current.generation && existsSync(fileOf(dir, name, active.generation))) {
        const next = open(current.projection, active.generation);
        if (started) await next.runner.start();
        await swap(name, next);
      }
    }
  }

  return {
    names,
    async start(): Promise<void> {
      if (started) return;
      started = true;
      await Promise.all([...live.values()].map((l) => l.runner.start()));
      watcher = setInterval(() => {
        followSwitches().catch((error: unknown) => onError?.('registry', error));
      }, watchIntervalMs);
      watcher.unref();
    },
    async stop(): Promise<void> {
      if (watcher) clearInterval(watcher);
      watcher = null;
      started = false;
      await Promise.all([...live.values()].map(async (l) => {
        await l.runner.stop();
        await l.state.close();
      }));
      registry.close();
    },
    /** The active generation's queries. */
    queries<Queries>(name: string): Queries {
      return entry(name).queries as Queries;
    },
    /** Resolves true once `name` has applied `position` (false after `timeoutMs`). */
    waitFor(name: string, position: number, timeoutMs: number): Promise<boolean> {
      return entry(name).runner.waitFor(position, timeoutMs);
    },
    ordering: () => 'global',
    /** Resolves true once `name` has applied `streamId` up to `revision`: the position of that revision, from the log. */
    async waitForStream(name: string, streamId: string, revision: number, timeoutMs: number): Promise<boolean> {
      entry(name);
      const [event] = await source.readStream(streamId, { fromRevision: revision, maxCount: 1 });
      return event !== undefined && event.revision === revision && entry(name).runner.waitFor(event.position, timeoutMs);
    },
    checkpoint(name: string): number {
      return entry(name).runner.checkpoint;
    },
    async status(): Promise<ProjectionStatus[]> {
      // The checkpoint is read from the state file, so a process that only inspects (novacron status) sees the truth too.
      return Promise.all(
        [...live.values()].map(async (l) => {
          const status = await l.runner.status();
          const checkpoint = await l.state.checkpoint();
          return { ...status, checkpoint, lag: Math.max(0, status.head - checkpoint), generation: l.generation, version: l.projection.version };
        }),
      );
    },
    /**
     * Rebuilds `name` from the start of the log into the next generation while
     * the current one keeps serving; once it has caught up with the log's head,
     * switches to it atomically and drops the old one.
     */
    async replay(name: string, { onProgress }: { onProgress?: (done: number, total: number) => void } = {}) {
      const current = entry(name);
      const generation = current.generation + 1;
      const path = fileOf(dir, name, generation);
      removeDb(path); // a replay that was interrupted before its switch
      const next = open(current.projection, generation, true);
      const head = await source.headPosition();
      const started_ = performance.now();
      const progress = setInterval(() => onProgress?.(next.runner.checkpoint, head), 200);
      try {
        await next.runner.start();
        while (!(await next.runner.waitFor(head, 1000))) {
          const s = await next.runner.status();
          if (s.state === 'failed') throw new Error(`replay of ${name} failed: ${s.error}`);
        }
        onProgress?.(head, head);
      } finally {
        clearInterval(progress);
      }
      if (!started) await next.runner.stop();
      next.state.endBulk(); // durable before anyone reads it
      if (!registry.switchTo(name, current.generation, generation, current.projection.version)) {
        await next.runner.stop();
        await next.state.close();
        removeDb(path);
        throw new Error(`replay of ${name}: another process switched it first`);
      }
      await swap(name, next);
      removeDb(fileOf(dir, name, current.generation));
      return { name, generation, events: head, seconds: (performance.now() - started_) / 1000 };
    },
  };
}

