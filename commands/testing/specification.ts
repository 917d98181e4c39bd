/**
 * Given / when / then for deciders (after Emmett's DeciderSpecification):
 *
 *   DeciderSpecification.for(tenantDecider)
 *     .given([created])
 *     .when(reserve)
 *     .then([reserved]);          // or .thenThrows('NC_QUOTA_EXCEEDED', { dimension: 'vcpus' })
 *
 * `then` also folds the new events into the state, so an event `evolve` cannot
 * take fails the test where it is produced.
 */
import { expect } from 'vitest';
import { isNovaCronError, type ErrorCode } from '../../streams/errors/index.ts';
import type { Decider } from '../decider.ts';

export interface Then<Event> {
  then(expected: Event[]): void;
  /** `details`, when given, must be a subset of the error's details. */
  thenThrows(code: ErrorCode, details?: Record<string, unknown>): void;
}

export const DeciderSpecification = {
  for<Command, Event, State>(decider: Decider<Command, Event, State>) {
    const fold = (state: State, events: Event[]) => events.reduce((s, e) => decider.evolve(s, e), state);
    return {
      given(events: Event[]) {
        return {
          when(command: Command): Then<Event> {
            const decide = () => {
              const state = fold(decider.initialState(), events);
              return { state, produced: decider.decide(command, state) };
            };
            return {
              then(expected) {
                const { state, produced } = decide();
                expect(produced).toEqual(expected);
                expect(() => fold(state, produced)).not.toThrow();
              },
              thenThrows(code, details) {
                let thrown: unknown;
                try {
                  decide();
                } catch (error) {
                  thrown = error;
                }
                expect(thrown, `expected ${code}`).toBeDefined();
                expect(isNovaCronError(thrown) ? thrown.code : thrown).toBe(code);
                if (details && isNovaCronError(thrown)) expect(thrown.details).toMatchObject(details);
              },
            };
          },
        };
      },
    };
  },
};
