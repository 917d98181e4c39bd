import { expect } from 'vitest';
import { isNovaCronError, type NovaCronError } from '../../streams/errors/index.ts';

/** What `run` throws, asserted to be NC_CONFIG_INVALID: for tests of the settings `loadConfig` and its readers refuse. */
export function configRejection(run: () => unknown): NovaCronError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(isNovaCronError(caught, 'NC_CONFIG_INVALID')).toBe(true);
  return caught as NovaCronError;
}
