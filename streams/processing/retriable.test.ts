import { describe, expect, it } from 'vitest';
import { withBackoff } from './retriable.ts';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
const policy = { maxRetries: 3, backoff: { baseMs: 1, capMs: 2 } };

/** Work that fails with `failures` in turn, then answers 'done'. */
function flaky(...failures: Error[]) {
  let calls = 0;
  return {
    work: () => {
      const failure = failures[calls++];
      if (failure) throw failure;
      return 'done';
    },
    calls: () => calls,
  };
}

describe('withBackoff', () => {
  it('retries a retriable failure, reporting each, until the work succeeds', async () => {
    const { work, calls } = flaky(busy(), busy());
    const retried: unknown[] = [];
    expect(await withBackoff(work, { ...policy, onRetry: (error) => retried.push(error) })).toBe('done');
    expect(calls()).toBe(3);
    expect(retried).toHaveLength(2);
  });

  it('gives up after maxRetries retries with the last failure', async () => {
    const { work, calls } = flaky(busy(), busy(), busy(), busy(), busy());
    await expect(withBackoff(work, policy)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    expect(calls()).toBe(4);
  });

  it('throws a failure that is not retriable at once', async () => {
    const { work, calls } = flaky(new TypeError('bug'));
    await expect(withBackoff(work, policy)).rejects.toThrow(TypeError);
    expect(calls()).toBe(1);
  });

  it('stops retrying once keepTrying says no', async () => {
    const { work, calls } = flaky(busy(), busy());
    await expect(withBackoff(work, { ...policy, keepTrying: () => false })).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    expect(calls()).toBe(1);
  });
});
