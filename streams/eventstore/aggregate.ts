import { LRUCache } from 'lru-cache';
import type { EventStore, RecordedEvent } from './port.ts';

export interface AggregateOptions<State> {
  initialState: () => State;
  evolve: (state: State, event: RecordedEvent) => State;
  /**
   * Snapshots: `version` is the shape of State (bump it when State changes, and
   * old snapshots are ignored); a new snapshot is written when at least `every`
   * events have been folded since the latest one. State held in a snapshot is
   * stored in plain JSON: it must not hold personal data.
   */
  snapshot?: { version: number; every: number };
  /** Folded states kept in memory between loads (see createAggregateCache). */
  cache?: AggregateCache;
}

export interface LoadedAggregate<State> {
  state: State;
  /** Revision of the last event folded in; -1 when the stream has none. */
  revision: number;
  /** Revision of the snapshot the load started from, or null. */
  snapshotRevision: number | null;
  /** Events read from the store (the tail after the snapshot or the cached state). */
  eventsRead: number;
  /** Whether the load started from a state cached in memory. */
  cached: boolean;
}

interface CachedAggregate {
  /** The aggregate's initialState: a cached state is only handed to the same aggregate. */
  kind: () => unknown;
  state: unknown;
  revision: number;
  /** Revision of the latest snapshot written or read (-1: none). */
  snapshotRevision: number;
}

/**
 * Folded aggregate states by stream id, least recently used evicted. A load
 * that hits the cache asks the store for the stream's state (one indexed read)
 * and folds only the events written after the cached revision, by this process
 * or any other (none to read when the stream is still at that revision); a stream that was tombstoned or deleted, or whose events no
 * longer continue the cached revision, is folded from scratch. (A stream
 * soft-deleted and recreated by another process between two loads of this one
 * is not told apart from one that grew; NovaCron only tombstones aggregates.)
 * States must be immutable values — deciders' evolve returns new objects — since
 * a cached one is shared by later loads.
 */
export interface AggregateCache {
  readonly size: number;
  forget(streamId: string): void;
  /** @internal */
  get(streamId: string): CachedAggregate | undefined;
  /** @internal */
  set(streamId: string, entry: CachedAggregate): void;
}

export function createAggregateCache({ max = 10_000 }: { max?: number } = {}): AggregateCache {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`createAggregateCache: max must be a positive integer, got ${max}`);
  const lru = new LRUCache<string, CachedAggregate>({ max });
  return {
    get size() {
      return lru.size;
    },
    forget: (streamId) => void lru.delete(streamId),
    get: (streamId) => lru.get(streamId),
    set: (streamId, entry) => void lru.set(streamId, entry),
  };
}

/** After an append of this process: the state it led to, at the append's revision. */
export function rememberAppended<State>(
  cache: AggregateCache,
  streamId: string,
  { initialState }: Pick<AggregateOptions<State>, 'initialState'>,
  state: State,
  revision: number,
): void {
  const previous = cache.get(streamId);
  const known = previous?.kind === initialState ? previous : undefined;
  if (known !== undefined && known.revision >= revision) return;
  cache.set(streamId, { kind: initialState, state, revision, snapshotRevision: known?.snapshotRevision ?? -1 });
}

/**
 * Folds an aggregate's stream: from a cached state (if any, and still valid),
 * else from its latest snapshot (if any), plus the events after it.
 */
export async function loadAggregate<State>(
  store: EventStore,
  streamId: string,
  { initialState, evolve, snapshot, cache }: AggregateOptions<State>,
): Promise<LoadedAggregate<State>> {
  let state = initialState();
  let revision = -1;
  let snapshotRevision: number | null = null;
  let lastSnapshot = -1;
  let cached = false;
  let upToRevision = -1;

  const hit = cache?.get(streamId);
  if (hit !== undefined && hit.kind === initialState) {
    const current = await store.streamState(streamId);
    if (current.status === 'live' && current.lastRevision >= hit.revision) {
      state = hit.state as State;
      revision = hit.revision;
      lastSnapshot = hit.snapshotRevision;
      cached = true;
      upToRevision = current.lastRevision;
    } else {
      cache?.forget(streamId);
    }
  }
  if (!cached && snapshot) {
    const saved = await store.readSnapshot<State>(streamId);
    if (saved && saved.version === snapshot.version) {
      state = saved.state;
      revision = saved.revision;
      snapshotRevision = saved.revision;
      lastSnapshot = saved.revision;
    }
  }
  // A cached state at the stream's last revision (what this process wrote last) needs no tail: one read in all.
  const upToDate = cached && upToRevision === revision;
  const tail = upToDate ? [] : await store.readStream(streamId, { fromRevision: revision + 1 });
  if (cached && tail.length > 0 && tail[0]?.revision !== revision + 1) {
    // The stream no longer continues the cached state (truncated, or recreated): fold it from scratch.
    cache?.forget(streamId);
    return loadAggregate(store, streamId, { initialState, evolve, snapshot, cache });
  }
  for (const event of tail) {
    state = evolve(state, event);
    revision = event.revision;
  }
  if (snapshot && revision >= 0 && revision - lastSnapshot >= snapshot.every) {
    await store.writeSnapshot(streamId, { revision, version: snapshot.version, state });
    lastSnapshot = revision;
  }
  if (cache && revision >= 0) cache.set(streamId, { kind: initialState, state, revision, snapshotRevision: lastSnapshot });
  return { state, revision, snapshotRevision, eventsRead: tail.length, cached };
}
