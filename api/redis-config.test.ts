import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { configRejection } from './testing/config-rejection.ts';

describe('loadConfig: Redis settings (cache layer)', () => {
  it('reads the URL, the prefix, the timeout and the L2 TTL', () => {
    const { redis } = loadConfig({
      NOVACRON_REDIS_URL: ' redis://:secret@cache.internal:6380/2 ',
      NOVACRON_REDIS_PREFIX: 'test.a1b2:novacron',
      NOVACRON_REDIS_TIMEOUT_MS: '50',
      NOVACRON_CACHE_L2_TTL_SECONDS: '60',
    });
    expect(redis).toEqual({ url: 'redis://:secret@cache.internal:6380/2', prefix: 'test.a1b2:novacron', timeoutMs: 50, cacheTtlSeconds: 60 });
  });

  it('defaults: no Redis (in-process bus, no L2), prefix novacron, 250 ms, 300 s', () => {
    expect(loadConfig({}).redis).toEqual({ url: undefined, prefix: 'novacron', timeoutMs: 250, cacheTtlSeconds: 300 });
    expect(loadConfig({ NOVACRON_REDIS_URL: 'rediss://127.0.0.1' }).redis.url).toBe('rediss://127.0.0.1');
  });

  it.each([
    ['NOVACRON_REDIS_URL', 'http://127.0.0.1:6379'],
    ['NOVACRON_REDIS_URL', '127.0.0.1:6379'],
    ['NOVACRON_REDIS_URL', 'redis://:hunter2@cache:99999'],
    ['NOVACRON_REDIS_URL', 'redis://cache:6379/x'],
    ['NOVACRON_REDIS_PREFIX', 'my prefix'],
    ['NOVACRON_REDIS_PREFIX', 'x'.repeat(101)],
    ['NOVACRON_REDIS_TIMEOUT_MS', '5'],
    ['NOVACRON_REDIS_TIMEOUT_MS', 'fast'],
    ['NOVACRON_CACHE_L2_TTL_SECONDS', '0'],
    ['NOVACRON_CACHE_L2_TTL_SECONDS', '1h'],
  ])('rejects %s=%s with NC_CONFIG_INVALID naming the variable', (name, value) => {
    const caught = configRejection(() => loadConfig({ [name]: value }));
    expect(caught.message.startsWith(name)).toBe(true);
    expect(caught.details).toEqual({ variable: name });
    // A URL may carry a password: never echoed.
    if (name === 'NOVACRON_REDIS_URL') expect(caught.message).not.toContain('hunter2');
  });
});
