import { afterAll, describe, expect, it } from 'vitest';
import { createRing, ringPoints, type Ring } from './model/index.ts';
import { createRingBuilder } from './ring-builder.ts';
import { createRingCache } from './ring-cache.ts';

const builder = createRingBuilder();
afterAll(() => builder.close());

const params = (regionId: string, shards: number) => ({ regionId, shards, virtualNodes: 1000, replicationFactor: 3 });
const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);

function expectSameRing(actual: Ring, expected: Ring): void {
  const a = ringPoints(actual);
  const e = ringPoints(expected);
  expect(a.positions).toEqual(e.positions);
  expect(a.owners).toEqual(e.owners);
  expect(keys.map((k) => actual.lookup(k))).toEqual(keys.map((k) => expected.lookup(k)));
}

describe('ring cache: prepare builds in the worker thread', () => {
  it('builds the bit-identical ring there, from scratch and from a kept ring of more or fewer shards', async () => {
    const cache = createRingCache({ builder, perRegion: 3 });
    await cache.prepare(params('eu-west', 40));
    const fresh = createRing(params('eu-west', 40));
    expectSameRing(cache.ring(params('eu-west', 40)), fresh);

    // 40 → 57: only shards 40 … 56 are allocated, from the kept 40-shard ring's arrays.
    await cache.prepare(params('eu-west', 57));
    expectSameRing(cache.ring(params('eu-west', 57)), createRing(params('eu-west', 57)));
    expectSameRing(cache.ring(params('eu-west', 57)), createRing(params('eu-west', 57), fresh));
    // 57 → 23: the prefix of the kept 57-shard ring.
    await cache.prepare(params('eu-west', 23));
    expectSameRing(cache.ring(params('eu-west', 23)), createRing(params('eu-west', 23)));
    expect(cache.builds).toBe(3);
    expect(cache.loopBuilds).toBe(0);
  });

  it('shares one build between concurrent asks, and answers a kept ring without building', async () => {
    const cache = createRingCache({ builder });
    await Promise.all([cache.prepare(params('us-east', 30)), cache.prepare(params('us-east', 30)), cache.prepare(params('us-east', 30))]);
    await cache.prepare(params('us-east', 30));
    expect(cache.builds).toBe(1);
    expect(cache.ring(params('us-east', 30)).shards).toBe(30);
    expect(cache.loopBuilds).toBe(0);
  });

  it('still builds on the calling thread when asked for a ring nobody prepared', () => {
    const cache = createRingCache({ builder });
    expectSameRing(cache.ring(params('ap-south', 5)), createRing(params('ap-south', 5)));
    expect(cache.loopBuilds).toBe(1);
  });

  it('rejects a build the worker cannot do, and keeps working after its worker is stopped', async () => {
    const cache = createRingCache({ builder });
    await expect(cache.prepare(params('bad', 0))).rejects.toThrow(/shards must be an integer/);
    const pending = cache.prepare(params('stopped', 800));
    await builder.close();
    await expect(pending).rejects.toMatchObject({ name: 'RingWorkerError', retriable: true });
    await cache.prepare(params('stopped', 3));
    expectSameRing(cache.ring(params('stopped', 3)), createRing(params('stopped', 3)));
  });
});
