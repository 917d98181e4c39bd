import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { generationFile, guardReplay, openGenerations, rowsOf, type ReplayOptions } from './generations.ts';
import type { AnySqliteProjection } from './projection.ts';
import type { ProjectionHost, ProjectionStatus } from './projection-host.ts';
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
  function open(projection: AnySqliteProjection, generation: number, bulk = false): Live {
    const state = openSqliteStateStore({ path: generationFile(dir, projection.name, generation), sync, bulk, migrate: (db) => projection.migrate(db) });
    const runner = createProcessorRunner({
      processor: {
        name: projection.name,
        handles: projection.handles,
        apply: (batch, db) => projection.apply(batch, db),
        ...(projection.prepare && { prepare: (batch: readonly RecordedEvent[]) => projection.prepare!(batch, state.db) }),
      },
      source,
      state,
      batchSize,
      onCommit: (checkpoint, batch) => onCommit?.(projection.name, checkpoint, batch),
      onError: (error) => onError?.(projection.name, error),
    });
    return { projection, generation, state, runner, queries: projection.queries(state.db) };
  }

  const generations = openGenerations<Live>({
    host: 'createProjectionHost',
    dir,
    projections,
    open: (projection, generation) => open(projection, generation),
    run: (l) => l.runner.start(),
    retire: async (l) => {
      await l.runner.stop();
      await l.state.close();
    },
    watchIntervalMs,
    onError,
  });
  const { entry } = generations;

  return {
    names: generations.names,
    start: () => generations.start(),
    stop: () => generations.stop(),
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
        generations.all().map(async (l) => {
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
    async replay(name: string, { onProgress, force }: ReplayOptions = {}) {
      const { current, generation } = generations.beginNext(name);
      const next = open(current.projection, generation, true);
      const head = await source.headPosition();
      const began = performance.now();
      const progress = setInterval(() => onProgress?.(next.runner.checkpoint, head), 200);
      try {
        await next.runner.start();
        while (!(await next.runner.waitFor(head, 1000))) {
          const s = await next.runner.status();
          if (s.state === 'failed') throw new Error(`replay of ${name} failed: ${s.error}`);
        }
        onProgress?.(head, head);
        guardReplay(name, { parked: await current.state.parkedCount(), rows: rowsOf(current.state.db) }, { parked: await next.state.parkedCount(), rows: rowsOf(next.state.db) }, { force });
      } catch (error) {
        await generations.discard(next);
        throw error;
      } finally {
        clearInterval(progress);
      }
      if (!generations.started) await next.runner.stop();
      next.state.endBulk(); // durable before anyone reads it
      await generations.promote(current, next);
      return { name, generation, events: head, seconds: (performance.now() - began) / 1000 };
    },
  };
}

