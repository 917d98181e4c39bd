import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { continueTrace, isTraceparent, newTraceparent, parseTraceparent } from './traceparent.ts';

const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C traceparent', () => {
  it('parses the specification\'s example', () => {
    expect(parseTraceparent(valid)).toEqual({ version: '00', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01' });
  });

  it.each([
    ['not a trace context', 'hello'],
    ['upper-case hex', valid.toUpperCase()],
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['the forbidden version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['version 00 with more fields', `${valid}-extra`],
    ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['a missing field', '00-4bf92f3577b34da6a3ce929d0e0e4736-01'],
    ['surrounding spaces', ` ${valid} `],
    ['not a string', 42],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('accepts a later version with more fields', () => {
    expect(isTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-later')).toBe(true);
  });

  it('new trace contexts are valid and distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const value = newTraceparent();
      expect(isTraceparent(value)).toBe(true);
      expect(value).toHaveLength(55);
      seen.add(parseTraceparent(value)!.traceId);
    }
    expect(seen.size).toBe(1000);
  });

  it('continues a valid trace in a span of its own, and replaces anything else by a new trace', () => {
    const child = parseTraceparent(continueTrace(valid));
    expect(child).toMatchObject({ version: '00', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', flags: '01' });
    expect(child?.parentId).not.toBe('00f067aa0ba902b7');
    fc.assert(
      fc.property(fc.oneof(fc.string({ minLength: 56 }), fc.constant(undefined), fc.array(fc.string())), (incoming) => {
        const out = continueTrace(incoming);
        expect(isTraceparent(out)).toBe(true);
        if (typeof incoming === 'string') expect(out).not.toBe(incoming);
      }),
    );
  });
});
