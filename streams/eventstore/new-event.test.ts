import { describe, expect, it } from 'vitest';
import { isEventId, newEventId } from './new-event.ts';

describe('newEventId', () => {
  it('gives valid, distinct UUIDv7s that increase strictly, even many within one millisecond', () => {
    const ids = Array.from({ length: 50_000 }, () => newEventId());
    expect(ids.every(isEventId)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const firstDecrease = ids.findIndex((id, i) => i > 0 && id <= (ids[i - 1] as string));
    expect(firstDecrease).toBe(-1);
  });

  it('carries the time it was made in its first 48 bits', () => {
    const before = Date.now();
    const id = newEventId();
    const msecs = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1); // +1: a sequence overflow may borrow the next millisecond
  });
});
