import { describe, expect, it } from 'vitest';
import { createInProcessInvalidationBus } from './bus.ts';
import { decodeInvalidation, decodeL2Entry, encodeInvalidation, encodeL2Entry, freshEnough, invalidationChannel, l2Root } from './redis-protocol.ts';

describe('invalidation messages', () => {
  it.each([
    { origin: 'a', tags: ['vm:1', 'vms'] },
    { origin: 'a', tags: ['vm:1'], through: 42 },
    { origin: 'a', tags: [], through: 0 },
    { origin: 'b', flush: true as const },
    { origin: 'b', flush: true as const, through: 7 },
  ])('round-trips %j', (message) => {
    expect(decodeInvalidation(encodeInvalidation(message))).toEqual({ message });
  });

  it.each([
    ['', 'not JSON'],
    ['vm:1', 'not JSON'],
    ['[]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    ['{"origin":"a","tags":[]}', 'version'],
    ['{"v":2,"origin":"a","tags":[]}', 'version'],
    ['{"v":1,"tags":["vm:1"]}', 'origin'],
    ['{"v":1,"origin":"","tags":["vm:1"]}', 'origin'],
    ['{"v":1,"origin":"a"}', 'tags must be an array'],
    ['{"v":1,"origin":"a","tags":"vm:1"}', 'tags must be an array'],
    ['{"v":1,"origin":"a","tags":[1]}', 'tags must be non-empty strings'],
    ['{"v":1,"origin":"a","tags":[""]}', 'tags must be non-empty strings'],
    ['{"v":1,"origin":"a","tags":[],"through":-1}', 'through'],
    ['{"v":1,"origin":"a","tags":[],"through":1.5}', 'through'],
    ['{"v":1,"origin":"a","tags":[],"through":"9"}', 'through'],
    ['{"v":1,"origin":"a","flush":false}', 'flush must be true'],
    ['{"v":1,"origin":"a","flush":true,"tags":["x"]}', 'flush must be true'],
    ['{"v":1,"origin":"a","tags":[],"extra":1}', 'unknown field'],
  ])('refuses %s (%s), without throwing', (raw, reason) => {
    const decoded = decodeInvalidation(raw);
    expect(decoded).toHaveProperty('error');
    expect((decoded as { error: string }).error).toContain(reason);
  });
});

describe('L2 layout and entries', () => {
  it('names the channel and the key root after the prefix', () => {
    expect(invalidationChannel('novacron')).toBe('novacron.invalidations');
    expect(l2Root('novacron')).toBe('novacron:l2');
  });

  it('round-trips an entry, null included, and refuses what is not one', () => {
    const entry = { value: { items: [{ id: 'vm-1' }], nextCursor: null }, tags: ['vm:vm-1', 'vms'], checkpoint: 12 };
    expect(decodeL2Entry(encodeL2Entry(entry))).toEqual(entry);
    expect(decodeL2Entry(encodeL2Entry({ value: null, tags: [], checkpoint: 0 }))).toEqual({ value: null, tags: [], checkpoint: 0 });
    for (const raw of ['nope', '{}', '{"c":1,"t":[]}', '{"c":"1","t":[],"v":1}', '{"c":1,"t":[2],"v":1}', '[1]']) expect(decodeL2Entry(raw)).toBeNull();
  });
});

describe('freshEnough: what a session read may take from a cache', () => {
  it('eventual reads take any entry', () => {
    expect(freshEnough(-1, -1, undefined)).toBe(true);
  });
  it('a session read takes an entry read at or after its write, or one that survived every invalidation up to it', () => {
    expect(freshEnough(10, -1, 10)).toBe(true);
    expect(freshEnough(9, -1, 10)).toBe(false);
    expect(freshEnough(9, 10, 10)).toBe(true);
    expect(freshEnough(9, 9, 10)).toBe(false);
    expect(freshEnough(-1, -1, Number.POSITIVE_INFINITY)).toBe(false);
  });
});

describe('the in-process bus', () => {
  it('delivers tags with the checkpoint, even a commit without tags (it moves the checkpoint)', () => {
    const bus = createInProcessInvalidationBus();
    const seen: Array<[readonly string[], number | undefined]> = [];
    bus.subscribe((tags, through) => seen.push([tags, through]));
    bus.publish(['vm:1'], 3);
    bus.publish([], 4);
    bus.publish([]);
    bus.publish(['vm:2']);
    expect(seen).toEqual([[['vm:1'], 3], [[], 4], [['vm:2'], undefined]]);
    expect(bus.live).toBe(true);
  });
});
