/**
 * What travels on the Redis invalidation channel, and where the L2 cache's
 * keys live: pure, so both are tested without Redis.
 *
 * Channel `<prefix>.invalidations` (`novacron.invalidations` by default), one
 * JSON message per commit:
 *   {"v":1,"origin":"<bus id>","tags":["vm:1","vms"],"through":42}
 *   {"v":1,"origin":"<bus id>","flush":true,"through":42}
 * `through` (optional) is the commit's checkpoint; `flush` says invalidations
 * were lost and every cache must drop everything. Anything else on the
 * channel is not ours and is ignored.
 *
 * L2 keys, under `<prefix>:l2` (see redis-l2-store.ts):
 *   <prefix>:l2:epoch             the current epoch (a flush increments it)
 *   <prefix>:l2:through           highest checkpoint whose invalidations were applied
 *   <prefix>:l2:<epoch>:e:<key>   an entry: {"c":checkpoint,"t":[tags],"v":value}, with a TTL
 *   <prefix>:l2:<epoch>:t:<tag>   the keys of the entries carrying <tag>: a sorted set, each scored
 *                                 by its entry's expiry (ms, Redis's clock)
 */

export const PROTOCOL_VERSION = 1;
export const DEFAULT_REDIS_PREFIX = 'novacron';
/** What NOVACRON_REDIS_PREFIX may be. */
export const REDIS_PREFIX_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

export const invalidationChannel = (prefix: string): string => `${prefix}.invalidations`;
export const l2Root = (prefix: string): string => `${prefix}:l2`;

export type InvalidationMessage =
  | { origin: string; tags: string[]; through?: number }
  | { origin: string; flush: true; through?: number };

export function encodeInvalidation(message: InvalidationMessage): string {
  const { origin, through } = message;
  const body = 'flush' in message ? { v: PROTOCOL_VERSION, origin, flush: true } : { v: PROTOCOL_VERSION, origin, tags: message.tags };
  return JSON.stringify(through === undefined ? body : { ...body, through });
}

const MAX_TAG_LENGTH = 2048;
const MAX_ORIGIN_LENGTH = 200;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The message, or why `raw` is not one of ours. Never throws. */
export function decodeInvalidation(raw: string): { message: InvalidationMessage } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { error: 'not JSON' };
  }
  if (!isObject(parsed)) return { error: 'not a JSON object' };
  if (parsed['v'] !== PROTOCOL_VERSION) return { error: `version ${JSON.stringify(parsed['v'])}, expected ${PROTOCOL_VERSION}` };
  const { origin, through, tags, flush } = parsed;
  if (typeof origin !== 'string' || origin === '' || origin.length > MAX_ORIGIN_LENGTH) return { error: 'origin must be a non-empty string' };
  if (through !== undefined && !(typeof through === 'number' && Number.isSafeInteger(through) && through >= 0)) return { error: 'through must be an integer ≥ 0' };
  const extra = Object.keys(parsed).filter((k) => !['v', 'origin', 'through', 'tags', 'flush'].includes(k));
  if (extra.length > 0) return { error: `unknown field ${JSON.stringify(extra[0])}` };
  if (flush !== undefined) {
    if (flush !== true || tags !== undefined) return { error: 'flush must be true, without tags' };
    return { message: through === undefined ? { origin, flush: true } : { origin, flush: true, through } };
  }
  if (!Array.isArray(tags)) return { error: 'tags must be an array' };
  if (!tags.every((t): t is string => typeof t === 'string' && t !== '' && t.length <= MAX_TAG_LENGTH)) return { error: `tags must be non-empty strings of at most ${MAX_TAG_LENGTH} characters` };
  return { message: through === undefined ? { origin, tags } : { origin, tags, through } };
}

/** What an L2 entry holds: the value, its tags, and the checkpoint of the projection it was read at. */
export interface L2Entry {
  value: unknown;
  tags: string[];
  checkpoint: number;
}

export const encodeL2Entry = ({ value, tags, checkpoint }: L2Entry): string => JSON.stringify({ c: checkpoint, t: tags, v: value });

/** The entry, or null for anything that is not one (a value another program wrote under our keys). */
export function decodeL2Entry(raw: string): L2Entry | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(parsed) || !('v' in parsed)) return null;
  const { c, t, v } = parsed;
  if (typeof c !== 'number' || !Number.isSafeInteger(c) || !Array.isArray(t) || !t.every((x) => typeof x === 'string')) return null;
  return { value: v, tags: t as string[], checkpoint: c };
}

/**
 * Whether a cached entry read at `checkpoint` may answer a read that must
 * reflect the log up to `atLeast` (a session read; `undefined` for an eventual
 * one): it was read at or after that position, or every invalidation up to
 * it has been applied (`through`) and the entry survived them.
 */
export function freshEnough(checkpoint: number, through: number, atLeast: number | undefined): boolean {
  return atLeast === undefined || checkpoint >= atLeast || through >= atLeast;
}
