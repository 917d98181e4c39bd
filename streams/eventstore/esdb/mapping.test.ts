import { describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../errors/index.ts';
import { StreamDeletedError, WrongExpectedRevisionError } from '../errors.ts';
import { DOMAIN_STREAMS_REGEX, planFilter, snapshotStreamOf } from './filter.ts';
import {
  forwardStart,
  fromCurrentState,
  fromEsdbMetadata,
  fromEsdbPosition,
  isTransientEsdbError,
  mapEsdbError,
  normalizeConnectionString,
  normalizeExpected,
  toAppendState,
  toDeleteState,
  toEsdbMetadata,
  toEsdbPosition,
  validateStreamMetadata,
} from './mapping.ts';
import { locateReplay, type StoredRef } from './replay.ts';

/** Errors shaped as the client's CommandError classes (`type`, `actualState`). */
const esdbError = (type: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(type), { type, ...extra });

describe('expected revision', () => {
  it('maps ours to ESDB for appends', () => {
    expect(toAppendState('any')).toBe('any');
    expect(toAppendState('no_stream')).toBe('no_stream');
    expect(toAppendState('exists')).toBe('stream_exists');
    expect(toAppendState(0)).toBe(0n);
    expect(toAppendState(41)).toBe(41n);
  });

  it('maps ours to ESDB for deletes, which take no stream_exists', () => {
    expect(toDeleteState('any')).toBe('any');
    expect(toDeleteState('no_stream')).toBe('no_stream');
    expect(toDeleteState(7)).toBe(7n);
    expect(toDeleteState('exists')).toBeNull();
  });

  it("maps ESDB's current revision back", () => {
    expect(fromCurrentState('no_stream')).toBe('no_stream');
    expect(fromCurrentState(undefined)).toBe('no_stream');
    expect(fromCurrentState(-1n)).toBe('no_stream');
    expect(fromCurrentState(0n)).toBe(0);
    expect(fromCurrentState(12n)).toBe(12);
  });

  it('validates the caller’s expectation', () => {
    expect(normalizeExpected(undefined)).toBe('any');
    expect(normalizeExpected(3)).toBe(3);
    for (const bad of [-1, -2, 1.5, '3', 'stream_exists', Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => normalizeExpected(bad)).toThrow(expect.objectContaining({ code: 'NC_VALIDATION' }));
    }
  });
});

describe('errors', () => {
  it('a wrong expected version becomes WrongExpectedRevisionError with the actual revision', () => {
    const mapped = mapEsdbError(esdbError('wrong-expected-version', { actualState: 4n }), 'vm-1', 2, 'append');
    expect(mapped).toBeInstanceOf(WrongExpectedRevisionError);
    expect(mapped).toMatchObject({ code: 'NC_REVISION_CONFLICT', streamId: 'vm-1', expectedRevision: 2, actualRevision: 4 });
    const absent = mapEsdbError(esdbError('wrong-expected-version', { actualState: 'no_stream' }), 'vm-1', 'exists', 'append');
    expect(absent).toMatchObject({ actualRevision: 'no_stream', expectedRevision: 'exists' });
  });

  it('a wrong expected version whose actual revision satisfies the expectation is a partial duplicate (ESDB "corrupted idempotency")', () => {
    expect(mapEsdbError(esdbError('wrong-expected-version', { actualState: 3n }), 'vm-1', 'any', 'append')).toMatchObject({ code: 'NC_IDEMPOTENCY_MISMATCH' });
    expect(mapEsdbError(esdbError('wrong-expected-version', { actualState: 3n }), 'vm-1', 'exists', 'append')).toMatchObject({ code: 'NC_IDEMPOTENCY_MISMATCH' });
    // Not for deletes, which carry no event ids.
    expect(mapEsdbError(esdbError('wrong-expected-version', { actualState: 3n }), 'vm-1', 'any', 'delete')).toBeInstanceOf(WrongExpectedRevisionError);
  });

  it('deleted and tombstoned streams become StreamDeletedError', () => {
    expect(mapEsdbError(esdbError('stream-deleted'), 'vm-1', 'any', 'append')).toBeInstanceOf(StreamDeletedError);
    expect(mapEsdbError(esdbError('stream-tombstoned'), 'vm-1', 'any', 'append')).toMatchObject({ code: 'NC_STREAM_DELETED' });
  });

  it('connection trouble is a retriable NC_STORE_UNAVAILABLE; request trouble is not retriable', () => {
    for (const type of ['unavailable', 'deadline-exceeded', 'not-leader', 'timeout']) {
      expect(isTransientEsdbError(esdbError(type))).toBe(true);
      expect(mapEsdbError(esdbError(type), 'vm-1', 'any', 'append')).toMatchObject({ code: 'NC_STORE_UNAVAILABLE', retriable: true });
    }
    expect(isTransientEsdbError(esdbError('unknown'))).toBe(false);
    expect(mapEsdbError(esdbError('unknown'), 'vm-1', 'any', 'read')).toMatchObject({ code: 'NC_STORE_UNAVAILABLE', retriable: false });
    expect(mapEsdbError(esdbError('access-denied'), 'vm-1', 'any', 'read')).toMatchObject({ code: 'NC_STORE_UNAVAILABLE', retriable: false });
    expect(mapEsdbError(esdbError('maximum-append-size-exceeded'), 'vm-1', 'any', 'append')).toMatchObject({ code: 'NC_EVENT_TOO_LARGE' });
    const ours = mapEsdbError(new StreamDeletedError('vm-1'), 'vm-1', 'any', 'append');
    expect(isNovaCronError(ours, 'NC_STREAM_DELETED')).toBe(true);
  });
});

describe('positions', () => {
  it('our position is the log offset of the event (commit = prepare for every event)', () => {
    expect(fromEsdbPosition({ commit: 18_446n, prepare: 18_446n })).toBe(18_446);
    expect(toEsdbPosition(18_446)).toEqual({ commit: 18_446n, prepare: 18_446n });
  });

  it("an append's answer spans its first and last records: the position is its last event's", () => {
    expect(fromEsdbPosition({ commit: 9_000n, prepare: 8_000n })).toBe(9_000);
    expect(fromEsdbPosition({ commit: 8_000n, prepare: 9_000n })).toBe(9_000);
  });

  it('no position, or -1, is 0 (unknown); beyond 2^53 is refused', () => {
    expect(fromEsdbPosition(undefined)).toBe(0);
    expect(fromEsdbPosition({ commit: -1n, prepare: -1n })).toBe(0);
    expect(() => fromEsdbPosition({ commit: 2n ** 60n, prepare: 2n ** 60n })).toThrow(/2\^53/);
    expect(() => toEsdbPosition(-1)).toThrow(RangeError);
  });

  it('a forward read starts at a record the store handed out: the position itself, or the one before (lastSeen + 1)', () => {
    const known = new Set([1000, 2000]);
    const has = (p: number) => known.has(p);
    expect(forwardStart(undefined, has)).toEqual({ kind: 'start' });
    expect(forwardStart('start', has)).toEqual({ kind: 'start' });
    expect(forwardStart(0, has)).toEqual({ kind: 'start' });
    expect(forwardStart(1, has)).toEqual({ kind: 'start' });
    expect(forwardStart('end', has)).toEqual({ kind: 'end' });
    expect(forwardStart(2000, has)).toEqual({ kind: 'position', at: 2000, from: 2000, alternative: null });
    expect(forwardStart(2001, has)).toEqual({ kind: 'position', at: 2000, from: 2001, alternative: null });
    expect(forwardStart(5000, has)).toEqual({ kind: 'position', at: 5000, from: 5000, alternative: 4999 });
    expect(() => forwardStart(-3, has)).toThrow(expect.objectContaining({ code: 'NC_VALIDATION' }));
  });
});

describe('stream metadata', () => {
  it('maps ours to the client’s and back, keeping custom apart from ESDB’s own keys', () => {
    const ours = { maxAge: 60, maxCount: 2, truncateBefore: 3, custom: { owner: 'ops' } };
    expect(toEsdbMetadata(ours)).toEqual(ours);
    expect(fromEsdbMetadata({ ...ours, cacheControl: 10, acl: { readRoles: ['$all'] } })).toEqual(ours);
    expect(fromEsdbMetadata(undefined)).toEqual({});
    expect(fromEsdbMetadata({ maxCount: 2 })).toEqual({ maxCount: 2 });
  });

  it("leaves out ESDB's soft-delete marker ($tb = long.MaxValue)", () => {
    expect(fromEsdbMetadata({ truncateBefore: Number(2n ** 63n - 1n), maxAge: 5 })).toEqual({ maxAge: 5 });
  });

  it('validates as the SQLite store does', () => {
    expect(() => validateStreamMetadata({ maxCount: -1 })).toThrow(expect.objectContaining({ code: 'NC_VALIDATION' }));
    expect(() => validateStreamMetadata({ maxAge: 0 })).toThrow(expect.objectContaining({ code: 'NC_VALIDATION' }));
    expect(() => validateStreamMetadata({ truncateBefore: 1.5 })).toThrow(expect.objectContaining({ code: 'NC_VALIDATION' }));
    expect(() => validateStreamMetadata({ truncateBefore: 0, maxCount: 1, maxAge: 1 })).not.toThrow();
  });
});

describe('connection string', () => {
  it('accepts esdb:// and kurrentdb:// (esdb:// rewritten, the client warns about it)', () => {
    expect(normalizeConnectionString('esdb://localhost:2113?tls=false')).toBe('kurrentdb://localhost:2113?tls=false');
    expect(normalizeConnectionString(' esdb+discover://a:2113,b:2113 ')).toBe('kurrentdb+discover://a:2113,b:2113');
    expect(normalizeConnectionString('kurrentdb://admin:changeit@db:2113')).toBe('kurrentdb://admin:changeit@db:2113');
    expect(() => normalizeConnectionString('http://localhost:2113')).toThrow(TypeError);
    expect(() => normalizeConnectionString('')).toThrow(TypeError);
  });
});

describe('filters', () => {
  it('categories filter on the server by stream-name prefix; event types are then checked on the client', () => {
    const plan = planFilter({ categories: ['vm', 'tenant'], eventTypes: ['VmCreated'] });
    expect(plan.server).toMatchObject({ filterOn: 'streamName', prefixes: ['vm-', 'tenant-'] });
    expect(plan.accept('vm-1', 'VmCreated')).toBe(true);
    expect(plan.accept('vm-1', 'VmStarted')).toBe(false);
    expect(plan.accept('vmx-1', 'VmCreated')).toBe(false);
  });

  it('event types alone filter on the server by type', () => {
    const plan = planFilter({ eventTypes: ['CapacityReserved', 'QuotaReserved'] });
    expect(plan.server).toMatchObject({ filterOn: 'eventType', regex: '^(?:CapacityReserved|QuotaReserved)$' });
    expect(plan.accept('node-1', 'CapacityReserved')).toBe(true);
    expect(plan.accept('$$node-1', 'CapacityReserved')).toBe(false);
  });

  it('no filter: NovaCron streams only, never system or snapshot streams', () => {
    const plan = planFilter(undefined);
    expect(plan.server).toMatchObject({ filterOn: 'streamName', regex: DOMAIN_STREAMS_REGEX });
    const regex = new RegExp(DOMAIN_STREAMS_REGEX);
    for (const name of ['vm-1', 'tenant-acme', 'c0ffee-x']) expect(regex.test(name) && plan.accept(name, 'VmCreated')).toBe(true);
    for (const name of ['$all', '$$vm-1', '$ce-vm', '$stats-127.0.0.1:2113', snapshotStreamOf('vm-1'), 'Vm-1', 'nocategory']) {
      expect(regex.test(name) && plan.accept(name, 'VmCreated')).toBe(false);
    }
    expect(plan.accept('vm-1', '$streamDeleted')).toBe(false);
  });

  it('refuses categories and types that could not be stream names or type names', () => {
    expect(() => planFilter({ categories: ['vm-'] })).toThrow(expect.objectContaining({ code: 'NC_VALIDATION' }));
    expect(() => planFilter({ eventTypes: ['a|b'] })).toThrow(expect.objectContaining({ code: 'NC_VALIDATION' }));
  });
});

describe('idempotent retries: finding an append in the stream tail', () => {
  const tail = (from: number, ids: string[]): StoredRef[] => ids.map((eventId, i) => ({ eventId, revision: from + i, position: 1000 * (from + i + 1) }));

  it('new ids append', () => {
    expect(locateReplay(tail(0, ['a', 'b']), ['c', 'd'])).toEqual({ kind: 'new' });
    expect(locateReplay([], ['c'])).toEqual({ kind: 'new' });
  });

  it('the same ids in order, consecutive, answer the original result', () => {
    expect(locateReplay(tail(4, ['x', 'a', 'b', 'y']), ['a', 'b'])).toEqual({ kind: 'replay', revision: 6, position: 7000 });
  });

  it('another order, a new id mixed in, or a gap is a mismatch', () => {
    expect(locateReplay(tail(0, ['a', 'b']), ['b', 'a'])).toMatchObject({ kind: 'mismatch' });
    expect(locateReplay(tail(0, ['a', 'b']), ['n', 'a', 'b'])).toEqual({ kind: 'mismatch', eventId: 'a' });
    expect(locateReplay(tail(0, ['a', 'x', 'b']), ['a', 'b'])).toEqual({ kind: 'mismatch', eventId: 'b' });
  });

  it('an append that straddles the start of the tail is read again from its first revision', () => {
    expect(locateReplay(tail(10, ['b', 'c', 'z']), ['a', 'b', 'c'])).toEqual({ kind: 'reread', fromRevision: 9 });
    expect(locateReplay(tail(9, ['a', 'b', 'c']), ['a', 'b', 'c'], { final: true })).toEqual({ kind: 'replay', revision: 11, position: 12000 });
    expect(locateReplay(tail(10, ['b', 'c']), ['a', 'b', 'c'], { final: true })).toMatchObject({ kind: 'mismatch' });
  });
});
