import { describe, expect, it } from 'vitest';
import { lagOf, totals } from './lag.ts';
import { groupIdOf, topicsFor } from './topology.ts';

describe('Kafka processor lag', () => {
  it('is high watermark − (stored offset + 1) per partition, from the log start when nothing is stored', () => {
    const marks = [
      { topic: 'p.vm.events', partition: 0, low: 0, high: 10 },
      { topic: 'p.vm.events', partition: 1, low: 0, high: 4 },
      { topic: 'p.vm.events', partition: 2, low: 5, high: 9 }, // retention dropped 0–4
      { topic: 'p.vm.events', partition: 3, low: 0, high: 0 },
    ];
    const stored = [
      { topic: 'p.vm.events', partition: 0, offset: 6 },
      { topic: 'p.vm.events', partition: 1, offset: 3 },
    ];
    const rows = lagOf(marks, stored);
    expect(rows.map((r) => [r.partition, r.offset, r.highWatermark, r.lag])).toEqual([
      [0, 6, 10, 3],
      [1, 3, 4, 0],
      [2, -1, 9, 4],
      [3, -1, 0, 0],
    ]);
    expect(totals(rows)).toEqual({ head: 23, lag: 7, checkpoint: 16 });
  });
});

describe('Kafka processor topology', () => {
  it('reads the topics carrying the types it handles, in one consumer group per generation', () => {
    expect(topicsFor('shard-map', ['RegionAdded', 'VmCreated'], 'p')).toEqual(['p.vm.events', 'p.capacity.events']);
    expect(topicsFor('t', ['TenantCreated'], 'p')).toEqual(['p.tenant.events']);
    expect(() => topicsFor('x', ['NoSuchEvent'], 'p')).toThrow(/handles NoSuchEvent, which no Kafka topic carries/);
    expect(groupIdOf('novacron.processor', 'shard-map', 3)).toBe('novacron.processor.shard-map.g3');
  });
});
