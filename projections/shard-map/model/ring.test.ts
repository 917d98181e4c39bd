import { describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../../streams/errors/index.ts';
import { createRing } from './ring.ts';

const keys = (n: number, prefix = 'vm-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('createRing', () => {
  const ring = createRing({ regionId: 'eu-west-1' });

  it('defaults to 100 shards, 1000 virtual nodes each, replication factor 3', () => {
    expect(ring).toMatchObject({ regionId: 'eu-west-1', shards: 100, virtualNodes: 1000, replicationFactor: 3 });
  });

  it('places keys exactly as pinned (positions decide where data lives: they change only with the allocation, which bumps the shard-map projection version)', () => {
    // Pinned for the balanced token allocation (shard-map projection version 2);
    // allocation.test.ts checks the small ring's points against a slow rewrite of the rule.
    expect(ring.lookup('vm-0')).toEqual({ shard: 78, replicas: [55, 45] });
    expect(ring.lookup('vm-1')).toEqual({ shard: 60, replicas: [20, 87] });
    expect(ring.lookup('vm-42')).toEqual({ shard: 69, replicas: [21, 90] });
    expect(ring.lookup('tenant-acme/vm-7')).toEqual({ shard: 2, replicas: [95, 50] });
    expect(ring.lookup('ünïcødé')).toEqual({ shard: 55, replicas: [10, 85] });
    const small = createRing({ regionId: 'us-east-1', shards: 7, virtualNodes: 50 });
    expect(small.lookup('vm-1')).toEqual({ shard: 3, replicas: [2, 0] });
  });

  it('gives the same answers from two rings built independently', () => {
    const again = createRing({ regionId: 'eu-west-1', shards: 100, virtualNodes: 1000 });
    const differ = keys(100_000).filter((key) => {
      const [x, y] = [again.lookup(key), ring.lookup(key)];
      return x.shard !== y.shard || x.replicas.join() !== y.replicas.join();
    });
    expect(differ).toEqual([]);
  });

  it('gives two replicas, distinct from the shard and from each other', () => {
    const bad = keys(100_000).filter((key) => {
      const { shard, replicas } = ring.lookup(key);
      const all = [shard, ...replicas];
      return replicas.length !== 2 || new Set(all).size !== 3 || !all.every((s) => Number.isInteger(s) && s >= 0 && s < 100);
    });
    expect(bad).toEqual([]);
  });

  it('agrees between lookup and shardOf', () => {
    expect(keys(10_000, 'k').filter((key) => ring.shardOf(key) !== ring.lookup(key).shard)).toEqual([]);
  });

  it('hashes each region on its own ring', () => {
    const other = createRing({ regionId: 'us-east-1' });
    const same = keys(10_000).filter((key) => other.shardOf(key) === ring.shardOf(key)).length;
    expect(same).toBeLessThan(300); // ≈ 1% by chance
  });

  it('gives as many replicas as the region has other shards, up to replicationFactor - 1', () => {
    expect(createRing({ regionId: 'r', shards: 1, virtualNodes: 10 }).lookup('a')).toEqual({ shard: 0, replicas: [] });
    const two = createRing({ regionId: 'r', shards: 2, virtualNodes: 10 }).lookup('a');
    expect(two.replicas).toEqual([1 - two.shard]);
    const five = createRing({ regionId: 'r', shards: 5, virtualNodes: 3, replicationFactor: 5 });
    for (const key of keys(200)) {
      const { shard, replicas } = five.lookup(key);
      expect(new Set([shard, ...replicas]).size).toBe(5);
    }
  });

  it.each([
    [{ regionId: '' }, 'regionId'],
    [{ regionId: 'r', shards: 0 }, 'shards'],
    [{ regionId: 'r', shards: 2.5 }, 'shards'],
    [{ regionId: 'r', virtualNodes: 0 }, 'virtualNodes'],
    [{ regionId: 'r', replicationFactor: 0 }, 'replicationFactor'],
  ])('rejects %j naming %s', (options, field) => {
    let thrown: unknown;
    try {
      createRing(options);
    } catch (error) {
      thrown = error;
    }
    expect(isNovaCronError(thrown, 'NC_VALIDATION')).toBe(true);
    expect(thrown).toMatchObject({ details: { field } });
  });
});
