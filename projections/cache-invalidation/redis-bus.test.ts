/**
 * The Redis invalidation bus's publishing order, on a scripted stand-in for
 * the Redis connection (each script call answers when the test says so), so
 * that interleavings Redis would make rare can be made certain.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisInvalidationBus } from './redis-bus.ts';
import { decodeInvalidation, type InvalidationMessage } from './redis-protocol.ts';
import { eventually } from './redis-testing.ts';

interface Call {
  message: InvalidationMessage;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A connection that is ready and whose EVALSHA calls (evict, flush) wait for the test to answer them. */
function scriptedRedis() {
  const calls: Call[] = [];
  const emitter = new EventEmitter();
  const client = Object.assign(emitter, {
    status: 'ready',
    evalsha(_sha: string, _keys: number, ...args: Array<string | number>) {
      const decoded = decodeInvalidation(String(args[2]));
      if ('error' in decoded) throw new Error(`not an invalidation: ${decoded.error}`);
      return new Promise((resolve, reject) => calls.push({ message: decoded.message, resolve, reject }));
    },
  });
  return { client: client as unknown as Redis, calls };
}

describe('the Redis invalidation bus, publishing', () => {
  it('an invalidation published while a flush is on its way to Redis is not lost', async () => {
    const { client, calls } = scriptedRedis();
    const bus = createRedisInvalidationBus({ client, prefix: 'scripted', retryMs: 1 });
    bus.publish(['vm:1'], 1);
    await eventually('the first invalidation is sent', () => calls.length === 1);
    calls[0]!.reject(new Error('Command timed out'));
    // The bus retries with a flush, standing for everything published so far (through 1).
    await eventually('the flush is sent', () => calls.length === 2);
    expect(calls[1]!.message).toMatchObject({ flush: true, through: 1 });
    // The next commit comes while the flush is on its way: the flush does not stand for it.
    bus.publish(['vm:2'], 2);
    calls[1]!.resolve(1);
    await eventually('what the commit at 2 changed reaches Redis', () =>
      calls.slice(2).some(({ message }) => ('tags' in message && message.tags.includes('vm:2')) || ('flush' in message && (message.through ?? -1) >= 2)),
    );
    for (const call of calls.slice(2)) call.resolve(0);
    await bus.close();
  });
});
