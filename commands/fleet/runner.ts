import { createAggregateCache, type AggregateCache, type EventStore } from '../../streams/eventstore/index.ts';
import { isNovaCronError } from '../../streams/errors/index.ts';
import type { CommandContext } from '../handling/context.ts';
import { createCommandBatcher } from '../handling/batcher.ts';
import { readAggregate, type Aggregate, type CommandOutcome } from '../handling/handle-command.ts';

export interface FleetHooks {
  /** A command finished: its type, 'ok' or the error code, and how long it took. */
  commandHandled?(type: string, outcome: string, seconds: number): void;
  /** The saga undid a step (released a reservation) after a later step failed. */
  compensated?(step: string): void;
  /** A command appended events to this stream. */
  appended?(streamId: string): void;
}

/** Runs one command against one aggregate, with the context's metadata, reporting to the hooks. */
export function createRunner(store: EventStore, hooks: FleetHooks = {}, cache: AggregateCache = createAggregateCache()) {
  // Commands on one stream are decided together and appended in one append (batcher.ts).
  const batcher = createCommandBatcher(store, { cache });
  return {
    async run<Command extends { type: string }, State>(
      aggregate: Aggregate<Command, State>,
      streamId: string,
      command: Command,
      context: CommandContext,
      tenantId: string | null = null,
      /** Checked on the state the command is decided on (e.g. may this caller see it?): throwing refuses the command alone. */
      guard?: (state: State) => void,
    ): Promise<CommandOutcome<State>> {
      const started = performance.now();
      try {
        const guarded = guard === undefined ? command : (state: State) => (guard(state), command);
        const outcome = await batcher.run(streamId, aggregate, guarded, context, tenantId);
        hooks.commandHandled?.(command.type, 'ok', (performance.now() - started) / 1000);
        if (outcome.events.length > 0) hooks.appended?.(streamId);
        return outcome;
      } catch (error) {
        hooks.commandHandled?.(command.type, isNovaCronError(error) ? error.code : 'error', (performance.now() - started) / 1000);
        throw error;
      }
    },
    read<Command, State>(aggregate: Aggregate<Command, State>, streamId: string) {
      return readAggregate(store, streamId, aggregate, cache);
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;

export const meta = (context: CommandContext) => ({ now: context.now.toISOString() });
