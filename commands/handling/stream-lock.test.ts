import { describe, expect, it } from 'vitest';
import { createStreamLock } from './stream-lock.ts';

describe('stream lock', () => {
  it('runs work on one stream one at a time, in arrival order, and other streams alongside', async () => {
    const lock = createStreamLock();
    const log: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const job = (stream: string, name: string) =>
      lock.run(stream, async () => {
        inside += stream === 'a' ? 1 : 0;
        maxInside = Math.max(maxInside, inside);
        log.push(`${name}:start`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`${name}:end`);
        inside -= stream === 'a' ? 1 : 0;
        return name;
      });
    const results = await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1'), job('a', 'a3')]);
    expect(results).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(maxInside).toBe(1);
    expect(log.filter((l) => l.startsWith('a'))).toEqual(['a1:start', 'a1:end', 'a2:start', 'a2:end', 'a3:start', 'a3:end']);
    expect(log.indexOf('b1:start')).toBeLessThan(log.indexOf('a1:end'));
    expect(lock.size).toBe(0);
  });

  it('a failing job does not block the next', async () => {
    const lock = createStreamLock();
    await expect(lock.run('s', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.run('s', async () => 'next')).toBe('next');
  });
});
