import type { EventStore, RecordedEvent } from './port.ts';

export interface AggregateOptions<State> {
  initialState: () => State;
  evolve: (state: State, event: RecordedEvent) => State;
  /**
   * Snapshots: `version` is the shape of State (bump it when State changes, and
   * old snapshots are ignored); a new snapshot is written when the tail read
   * after the latest one is at least `every` events long. State held in a
   * snapshot is stored in plain JSON: it must not hold personal data.
   */
  snapshot?: { version: number; every: number };
}

export interface LoadedAggregate<State> {
  state: State;
  /** Revision of the last event folded in; -1 when the stream has none. */
  revision: number;
  /** Revision of the snapshot the load started from, or null. */
  snapshotRevision: number | null;
  /** Events read from the store (the tail after the snapshot). */
  eventsRead: number;
}

/** Folds an aggregate's stream: from its latest snapshot (if any) plus the events after it. */
export async function loadAggregate<State>(
  store: EventStore,
  streamId: string,
  { initialState, evolve, snapshot }: AggregateOptions<State>,
): Promise<LoadedAggregate<State>> {
  let state = initialState();
  let revision = -1;
  let snapshotRevision: number | null = null;
  if (snapshot) {
    const saved = await store.readSnapshot<State>(streamId);
    if (saved && saved.version === snapshot.version) {
      state = saved.state;
      revision = saved.revision;
      snapshotRevision = saved.revision;
    }
  }
  const tail = await store.readStream(streamId, { fromRevision: revision + 1 });
  for (const event of tail) {
    state = evolve(state, event);
    revision = event.revision;
  }
  if (snapshot && tail.length >= snapshot.every) {
    await store.writeSnapshot(streamId, { revision, version: snapshot.version, state });
  }
  return { state, revision, snapshotRevision, eventsRead: tail.length };
}
