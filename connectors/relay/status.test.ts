import { describe, expect, it } from 'vitest';
import { formatKafkaStatus } from './status.ts';

describe('novacron kafka status', () => {
  it('shows published, head and lag, then each topic', () => {
    const text = formatKafkaStatus({
      topicPrefix: 'novacron',
      published: 1200,
      head: 1234,
      lag: 34,
      topics: [
        { topic: 'novacron.tenant.events', partitions: 12, records: 200, lastPosition: 1100 },
        { topic: 'novacron.vm.events', partitions: 12, records: 900, lastPosition: 1200 },
        { topic: 'novacron.capacity.events', partitions: null, records: 0, lastPosition: 0 },
      ],
    });
    expect(text.split('\n')).toEqual([
      'relay  published 1200  head 1234  lag 34',
      '',
      'topic                     partitions                         records  last position',
      'novacron.tenant.events    12                                 200      1100',
      'novacron.vm.events        12                                 900      1200',
      'novacron.capacity.events  missing (run novacron kafka init)  0        0',
    ]);
  });
});
