import type { EventDataMap, EventType } from '../schemas/generated/events.ts';
import { NovaCronError } from '../streams/errors/index.ts';

/** An event as a decider sees it: its type and its data from the catalog (a union when K is). */
export type DomainEvent<K extends EventType = EventType> = K extends EventType ? { type: K; data: EventDataMap[K] } : never;

/**
 * A pure aggregate: state is the fold of its events; `decide` turns a command
 * into new events or throws a NovaCronError. No I/O, no clock, no randomness.
 */
export interface Decider<Command, Event, State> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
}

/** Closes a `decide` switch: compile-time exhaustiveness, NC_VALIDATION for a type sent from untyped code. */
export function unknownCommand(command: never): never {
  const type = (command as { type?: unknown } | null)?.type;
  throw new NovaCronError('NC_VALIDATION', `Unknown command type ${String(type)}`, { details: { field: 'type', value: type } });
}

/** Closes an `evolve` switch: compile-time exhaustiveness; an event of another aggregate leaves the state as it is. */
export function ignoreEvent<State>(_event: never, state: State): State {
  return state;
}
