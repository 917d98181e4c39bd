import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../catalog/index.ts';
import { isNovaCronError } from '../errors/index.ts';
import { partitionOf, subjectOf, TOPIC_EVENT_TYPES, TOPIC_KEYS, topicNames, topicOf } from './topics.ts';

describe('Kafka topics', () => {
  it('are <prefix>.<tenant|vm|capacity>.events', () => {
    expect(topicNames('novacron')).toEqual(['novacron.tenant.events', 'novacron.vm.events', 'novacron.capacity.events']);
  });

  it('route each stream by its category; node, region, cluster and forecast streams share the capacity topic', () => {
    expect(topicOf('novacron', 'tenant-acme')).toBe('novacron.tenant.events');
    expect(topicOf('novacron', 'vm-0193a')).toBe('novacron.vm.events');
    for (const id of ['node-n1', 'region-eu-west', 'cluster-c1', 'forecast-eu-west']) expect(topicOf('x', id)).toBe('x.capacity.events');
  });

  it('refuse a category no topic carries, naming it', () => {
    let caught: unknown;
    try {
      topicOf('novacron', 'billing-42');
    } catch (error) {
      caught = error;
    }
    expect(isNovaCronError(caught, 'NC_STREAM_ID_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('"billing" has no Kafka topic');
  });

  it('carry every event type of the catalog, each on exactly one topic', () => {
    const listed = TOPIC_KEYS.flatMap((key) => TOPIC_EVENT_TYPES[key]);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...defaultCatalog().types]);
  });

  it('name subjects <topic>-novacron.events.<Type> (TopicRecordNameStrategy)', () => {
    expect(subjectOf('novacron.vm.events', 'VmCreated')).toBe('novacron.vm.events-novacron.events.VmCreated');
  });

  it("partition keys as Kafka's Java client does (murmur2, positive, modulo the partition count)", () => {
    // Utils.murmur2 of these keys, from Kafka's own UtilsTest.
    const java: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of java) {
      for (const partitions of [1, 3, 12, 100]) expect(partitionOf(key, partitions)).toBe((hash & 0x7fffffff) % partitions);
    }
    expect(() => partitionOf('vm-1', 0)).toThrow(RangeError);
  });
});
