import type { EventStore, NewEvent, RecordedEvent } from '../../streams/eventstore/index.ts';
import { isWrongExpectedRevision, loadAggregate, newEventId, rememberAppended, type AggregateCache } from '../../streams/eventstore/index.ts';
import type { Decider, DomainEvent } from '../decider.ts';
import type { CommandContext } from './context.ts';
import { backoffDelay, delay } from './retry.ts';
import type { StreamLock } from './stream-lock.ts';

/**
 * A stored event as a decider sees it. The cast is sound: the store validated the
 * data against the event's Avro schema before appending it, and upcasts old
 * versions on read, so data always has the generated type of its event type.
 */
export const toDomainEvent = (event: RecordedEvent): DomainEvent => ({ type: event.type, data: event.data }) as unknown as DomainEvent;

/** The events a command decided, as recorded: a new id each, and the command's context as metadata. */
export function toNewEvents(decided: readonly DomainEvent[], context: CommandContext, tenantId: string | null): NewEvent[] {
  const occurredAt = context.now.toISOString();
  return decided.map((event) => ({
    type: event.type,
    data: event.data as unknown as Record<string, unknown>,
    metadata: {
      eventId: newEventId(),
      tenantId,
      correlationId: context.correlationId,
      causationId: context.causationId ?? null,
      actor: context.actor,
      occurredAt,
      ...(context.traceparent ? { traceparent: context.traceparent } : {}),
    },
  }));
}

export interface Aggregate<Command, State> {
  decider: Decider<Command, DomainEvent, State>;
  /**
   * The tenant that owns the aggregate, written into every event's metadata:
   * its data key encrypts the events' personal fields, and tenant-scoped
   * readers (the event feed, Kafka consumers) select by it.
   */
  tenantOf?: (state: State, command: Command) => string | null;
  /** Snapshot every this many events (state must hold no personal data); omit for short streams. */
  snapshot?: { version: number; every: number };
}

export interface CommandOutcome<State> {
  streamId: string;
  /** Revision of the stream's last event after the command. */
  revision: number;
  /** Global position of the stream's last event after the command. */
  position: number;
  /** What the command recorded; [] when it changed nothing (an idempotent no-op). */
  events: DomainEvent[];
  /** The recorded events' ids, in order (what a next step names as its causationId). */
  eventIds: string[];
  /** State after the command. */
  state: State;
}

export interface HandleOptions {
  /** Tenant whose key encrypts personal data in these events (the aggregate's owner). */
  tenantId?: string | null;
  /** Revision conflicts retried before giving up (reload, decide again). Default 8. */
  maxRetries?: number;
  /** Queues commands on the same stream in this process (see stream-lock.ts). */
  lock?: StreamLock;
  /** Keeps folded states between commands, so a command folds only the events since (see aggregate.ts). */
  cache?: AggregateCache;
}

/**
 * Loads the aggregate (snapshot + tail), decides, appends with the revision it
 * decided on. A revision conflict means someone else wrote first: reload and
 * decide again, with jittered backoff, a bounded number of times. Nothing else
 * is retried: domain errors, validation errors and infrastructure errors go
 * straight back to the caller, and a failed command appends nothing.
 */
export async function handleCommand<Command, State>(
  store: EventStore,
  streamId: string,
  aggregate: Aggregate<Command, State>,
  command: Command | ((state: State) => Command),
  context: CommandContext,
  { tenantId: givenTenant = null, maxRetries = 8, lock, cache }: HandleOptions = {},
): Promise<CommandOutcome<State>> {
  if (lock) return lock.run(streamId, () => handleCommand(store, streamId, aggregate, command, context, { tenantId: givenTenant, maxRetries, cache }));
  const { decider, snapshot } = aggregate;
  for (let attempt = 0; ; attempt++) {
    const loaded = await loadAggregate(store, streamId, {
      initialState: decider.initialState,
      evolve: (state, event) => decider.evolve(state, toDomainEvent(event)),
      snapshot,
      cache,
    });
    const resolved = typeof command === 'function' ? (command as (s: State) => Command)(loaded.state) : command;
    const decided = decider.decide(resolved, loaded.state);
    const tenantId = givenTenant ?? aggregate.tenantOf?.(loaded.state, resolved) ?? null;
    if (decided.length === 0) {
      const [last] = await store.readStream(streamId, { direction: 'backwards', fromRevision: 'end', maxCount: 1 });
      return { streamId, revision: loaded.revision, position: last?.position ?? 0, events: [], eventIds: [], state: loaded.state };
    }
    const events = toNewEvents(decided, context, tenantId);
    try {
      const result = await store.append(streamId, events, {
        expectedRevision: loaded.revision < 0 ? 'no_stream' : loaded.revision,
      });
      const state = decided.reduce((s, e) => decider.evolve(s, e), loaded.state);
      if (cache) rememberAppended(cache, streamId, decider, state, result.revision);
      return { streamId, revision: result.revision, position: result.position, events: decided, eventIds: events.map((e) => e.metadata?.eventId as string), state };
    } catch (error) {
      if (!isWrongExpectedRevision(error) || attempt >= maxRetries) throw error;
      await delay(backoffDelay(attempt));
    }
  }
}

/** Folds an aggregate without deciding anything (strong reads). */
export async function readAggregate<Command, State>(
  store: EventStore,
  streamId: string,
  aggregate: Aggregate<Command, State>,
  cache?: AggregateCache,
): Promise<{ state: State; revision: number }> {
  const loaded = await loadAggregate(store, streamId, {
    initialState: aggregate.decider.initialState,
    evolve: (state, event) => aggregate.decider.evolve(state, toDomainEvent(event)),
    snapshot: aggregate.snapshot,
    cache,
  });
  return { state: loaded.state, revision: loaded.revision };
}
