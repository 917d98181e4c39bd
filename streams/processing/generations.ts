import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { NovaCronError } from '../errors/index.ts';
import type { AnySqliteProjection } from './projection.ts';
import { openProjectionRegistry } from './registry.ts';
import { privateDir } from '../files/private.ts';

/** A projection's serving generation, as a host keeps it. */
export interface Generation {
  projection: AnySqliteProjection;
  generation: number;
  queries: unknown;
}

export interface GenerationsOptions<G extends Generation> {
  /** The host's factory, named in errors. */
  host: string;
  /** Directory of the projection files (`<name>.g<generation>.db`) and the registry. */
  dir: string;
  projections: readonly AnySqliteProjection[];
  /** Opens `generation` of `projection` on its file (`generationFile`). */
  open(projection: AnySqliteProjection, generation: number): G;
  /** Starts its processor, if it runs in this process. */
  run(g: G): Promise<void>;
  /** Stops its processor and closes its file. */
  retire(g: G): Promise<void>;
  /** How often to look for a generation switched by another process (a `novacron replay`). */
  watchIntervalMs: number;
  onError?: (name: string, error: unknown) => void;
}

/** Tables a host keeps beside a projection's own: they say how far it is, not what it holds. */
const BOOKKEEPING = new Set(['processor_checkpoint', 'parked_events', 'stream_revisions', 'kafka_offsets']);

/** What a generation holds, as the replay guard compares it: parked events and rows of the projection's own tables. */
export interface GenerationContents {
  parked: number;
  rows: number;
}

/** Counts the rows of a projection file's own tables (not the host's bookkeeping). */
export function rowsOf(db: Database.Database): number {
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
  let rows = 0;
  for (const { name } of tables) {
    if (BOOKKEEPING.has(name)) continue;
    rows += (db.prepare(`SELECT COUNT(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n;
  }
  return rows;
}

export interface ReplayOptions {
  onProgress?: (done: number, total: number) => void;
  /** Switch even when the new generation parked more events or holds far fewer rows than the live one (an operator's override). */
  force?: boolean;
}

/**
 * A new generation holding less than this share of the live one's rows is not
 * switched in (unless forced): a replay over topics whose records no longer
 * decode, say, builds an empty projection that would replace a full one.
 */
export const REPLAY_MIN_ROW_SHARE = 0.5;

/**
 * Refuses to switch a replayed generation in when it parked events the live
 * one did not, or holds far fewer rows than it: the live generation keeps
 * serving and the replayed one is dropped. `force` switches anyway.
 */
export function guardReplay(name: string, live: GenerationContents, next: GenerationContents, { force = false }: { force?: boolean } = {}): void {
  if (force) return;
  const reasons: string[] = [];
  if (next.parked > live.parked) reasons.push(`it parked ${next.parked} events where the live generation parked ${live.parked}`);
  if (live.rows > 0 && next.rows < live.rows * REPLAY_MIN_ROW_SHARE) reasons.push(`it holds ${next.rows} rows where the live generation holds ${live.rows}`);
  if (reasons.length === 0) return;
  throw new NovaCronError(
    'NC_REPLAY_REFUSED',
    `replay of ${name}: the new generation was not switched in because ${reasons.join(' and ')}; the live generation keeps serving. ` +
      'Look at its parked events (novacron status), fix their cause and replay again, or switch anyway with `novacron replay --force`',
    { details: { projection: name, live, next } },
  );
}

/** The projections' names; throws on a name given twice. */
export function projectionNames(host: string, projections: readonly AnySqliteProjection[]): string[] {
  const names = projections.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new TypeError(`${host}: duplicate projection names in ${names.join(', ')}`);
  return names;
}

/** The file of `generation` of the projection `name`. */
export const generationFile = (dir: string, name: string, generation: number): string => join(dir, `${name}.g${generation}.db`);

const removeDb = (path: string) => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
};

/**
 * The generations of a host's projections, the same for the embedded host
 * (host.ts) and the Kafka one (kafka/host.ts): one SQLite file per projection
 * and generation, the active generation of each in the registry, the serving
 * one opened here; while running, a generation switched by another process
 * is followed. A replay builds generation g+1 while g serves, then `promote`s it.
 */
export function openGenerations<G extends Generation>({ host, dir, projections, open, run, retire, watchIntervalMs, onError }: GenerationsOptions<G>) {
  const names = projectionNames(host, projections);
  privateDir(dir);
  const registry = openProjectionRegistry(join(dir, 'registry.db'));
  const live = new Map<string, G>();
  let started = false;
  let watcher: NodeJS.Timeout | null = null;
  const file = (name: string, generation: number) => generationFile(dir, name, generation);

  for (const projection of projections) {
    live.set(projection.name, open(projection, activeGeneration(projection)));
  }

  /**
   * The generation to serve. One built by another version of the projection's
   * code (its `version` was bumped: its tables or their meaning changed) is
   * dropped for a fresh generation that rebuilds from the start of the log.
   */
  function activeGeneration(projection: AnySqliteProjection): number {
    const { name, version } = projection;
    const active = registry.active(name, version);
    if (active.version === version) return active.generation;
    const fresh = active.generation + 1;
    removeDb(file(name, fresh));
    if (!registry.switchTo(name, active.generation, fresh, version)) return activeGeneration(projection); // another process did it first
    removeDb(file(name, active.generation));
    return fresh;
  }

  const entry = (name: string): G => {
    const found = live.get(name);
    if (!found) throw new RangeError(`unknown projection ${JSON.stringify(name)} (known: ${names.join(', ')})`);
    return found;
  };

  /** Replaces the serving generation of `name` by `next` (already open and, if the host runs, running). */
  async function swap(name: string, next: G): Promise<void> {
    const previous = entry(name);
    live.set(name, next);
    await retire(previous);
  }

  async function followSwitches(): Promise<void> {
    for (const [name, current] of live) {
      const active = registry.current(name);
      // Only a generation built by this version of the code (a process running another version may switch too).
      if (active && active.generation !== current.generation && active.version === current.projection.version && existsSync(file(name, active.generation))) {
        const next = open(current.projection, active.generation);
        if (started) await run(next);
        await swap(name, next);
      }
    }
  }

  /** Retires `g` and removes its file. */
  async function discard(g: G): Promise<void> {
    await retire(g);
    removeDb(file(g.projection.name, g.generation));
  }

  return {
    names,
    entry,
    all: (): G[] => [...live.values()],
    get started(): boolean {
      return started;
    },
    /** Runs every processor here, and follows switches made elsewhere. */
    async start(): Promise<void> {
      if (started) return;
      started = true;
      await Promise.all([...live.values()].map((g) => run(g)));
      watcher = setInterval(() => {
        followSwitches().catch((error: unknown) => onError?.('registry', error));
      }, watchIntervalMs);
      watcher.unref();
    },
    /** Retires every generation and closes the registry. */
    async stop(): Promise<void> {
      if (watcher) clearInterval(watcher);
      watcher = null;
      started = false;
      await Promise.all([...live.values()].map((g) => retire(g)));
      registry.close();
    },
    /** For a replay: the serving generation of `name` and the number of the next, whose file is cleared of what an interrupted replay left. */
    beginNext(name: string): { current: G; generation: number } {
      const current = entry(name);
      const generation = current.generation + 1;
      removeDb(file(name, generation));
      return { current, generation };
    },
    discard,
    /**
     * Makes `next`, the generation after `current` a replay built, the active
     * one: switches the registry, serves it and removes the old file. When
     * another process switched first, discards `next` and throws.
     */
    async promote(current: G, next: G): Promise<void> {
      const { name, version } = current.projection;
      if (!registry.switchTo(name, current.generation, next.generation, version)) {
        await discard(next);
        throw new Error(`replay of ${name}: another process switched it first`);
      }
      await swap(name, next);
      removeDb(file(name, current.generation));
    },
  };
}
