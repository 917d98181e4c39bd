import type { EventStore, NewEvent } from '../../streams/eventstore/index.ts';
import { isWrongExpectedRevision, loadAggregate, rememberAppended, type AggregateCache } from '../../streams/eventstore/index.ts';
import type { DomainEvent } from '../decider.ts';
import type { CommandContext } from './context.ts';
import { toDomainEvent, toNewEvents, type Aggregate, type CommandOutcome } from './handle-command.ts';
import { backoffDelay, delay } from './retry.ts';

export interface BatcherOptions {
  /** Keeps folded states between batches, so a batch folds only the events since (see aggregate.ts). */
  cache?: AggregateCache;
  /** Revision conflicts (another process wrote first) retried before giving up: reload, decide the batch again. Default 8. */
  maxRetries?: number;
  /** Most commands decided and appended together. Default 64. */
  maxBatch?: number;
  /** Called with the size of every batch appended (tests and metrics). */
  onAppend?: (streamId: string, commands: number, events: number) => void;
}

interface Entry {
  // The aggregate and command types vary per stream; one batch holds one aggregate's commands.
  aggregate: Aggregate<unknown, unknown>;
  command: unknown;
  context: CommandContext;
  tenantId: string | null;
  resolve(outcome: CommandOutcome<unknown>): void;
  reject(error: unknown): void;
}

type Decided =
  | { entry: Entry; refused: unknown }
  | { entry: Entry; events: DomainEvent[]; recorded: NewEvent[]; state: unknown };

/**
 * Commands batched per stream. Commands for the same stream queue in this
 * process; while one batch is being appended (waiting for its group commit) the
 * next ones gather, and are then decided one after another against the state in
 * memory — each sees the events of the commands before it — and appended together
 * in ONE append with the revision the batch was decided on. A stream thus takes
 * as many commands per commit as arrive meanwhile, instead of one.
 *
 * Each command keeps its own outcome: its revision, its events and their ids, the
 * state after it; a command the decider refuses rejects alone with its own error
 * (the state does not include it) and the others go through. A revision conflict
 * (a writer in another process) reloads and decides the whole batch again, with
 * jittered backoff, at most `maxRetries` times; nothing is appended twice, as an
 * append is all or nothing. Any other failure of the append rejects every command
 * of the batch with that error: none of them was recorded (their refusals were
 * decided on a state that never came to be). `position` is that of the batch's
 * last event: the position at which the command is durable and readable.
 */
export function createCommandBatcher(store: EventStore, { cache, maxRetries = 8, maxBatch = 64, onAppend }: BatcherOptions = {}) {
  const queues = new Map<string, Entry[]>();
  const draining = new Set<string>();

  async function decideAndAppend(streamId: string, aggregate: Aggregate<unknown, unknown>, batch: readonly Entry[]): Promise<void> {
    const { decider, snapshot } = aggregate;
    for (let attempt = 0; ; attempt++) {
      let decided: Decided[] = [];
      let loaded;
      try {
        loaded = await loadAggregate(store, streamId, {
          initialState: decider.initialState,
          evolve: (state, event) => decider.evolve(state, toDomainEvent(event)),
          snapshot,
          cache,
        });
        let state = loaded.state;
        decided = batch.map((entry): Decided => {
          try {
            const command = typeof entry.command === 'function' ? (entry.command as (s: unknown) => unknown)(state) : entry.command;
            const events = decider.decide(command, state);
            const tenantId = entry.tenantId ?? aggregate.tenantOf?.(state, command) ?? null;
            state = events.reduce((s, e) => decider.evolve(s, e), state);
            return { entry, events, recorded: toNewEvents(events, entry.context, tenantId), state };
          } catch (refused) {
            return { entry, refused };
          }
        });
        const recorded = decided.flatMap((d) => ('recorded' in d ? d.recorded : []));
        let position: number;
        let revision = loaded.revision;
        if (recorded.length === 0) {
          const [last] = await store.readStream(streamId, { direction: 'backwards', fromRevision: 'end', maxCount: 1 });
          position = last?.position ?? 0;
        } else {
          const result = await store.append(streamId, recorded, { expectedRevision: loaded.revision < 0 ? 'no_stream' : loaded.revision });
          position = result.position;
          if (cache) rememberAppended(cache, streamId, decider, state, result.revision);
          onAppend?.(streamId, batch.length, recorded.length);
        }
        for (const d of decided) {
          if ('refused' in d) {
            d.entry.reject(d.refused);
            continue;
          }
          revision += d.events.length;
          d.entry.resolve({
            streamId,
            revision,
            position,
            events: d.events,
            eventIds: d.recorded.map((e) => e.metadata?.eventId as string),
            state: d.state,
          });
        }
        return;
      } catch (error) {
        if (isWrongExpectedRevision(error) && attempt < maxRetries) {
          await delay(backoffDelay(attempt));
          continue;
        }
        for (const entry of batch) entry.reject(error);
        return;
      }
    }
  }

  async function drain(streamId: string): Promise<void> {
    draining.add(streamId);
    try {
      for (;;) {
        const queue = queues.get(streamId);
        if (queue === undefined || queue.length === 0) {
          queues.delete(streamId);
          return;
        }
        const aggregate = (queue[0] as Entry).aggregate;
        let n = 0;
        while (n < queue.length && n < maxBatch && (queue[n] as Entry).aggregate === aggregate) n++;
        await decideAndAppend(streamId, aggregate, queue.splice(0, n));
      }
    } finally {
      draining.delete(streamId);
    }
  }

  return {
    /** Decides `command` on `streamId` with the commands queued beside it and appends their events together. */
    run<Command, State>(
      streamId: string,
      aggregate: Aggregate<Command, State>,
      command: Command | ((state: State) => Command),
      context: CommandContext,
      tenantId: string | null = null,
    ): Promise<CommandOutcome<State>> {
      return new Promise<CommandOutcome<State>>((resolve, reject) => {
        let queue = queues.get(streamId);
        if (queue === undefined) queues.set(streamId, (queue = []));
        queue.push({
          aggregate: aggregate as unknown as Aggregate<unknown, unknown>,
          command,
          context,
          tenantId,
          resolve: resolve as (outcome: CommandOutcome<unknown>) => void,
          reject,
        });
        if (!draining.has(streamId)) void drain(streamId);
      });
    },
    /** Streams with commands running or queued. */
    get size() {
      return queues.size;
    },
  };
}

export type CommandBatcher = ReturnType<typeof createCommandBatcher>;
