/**
 * Which part of `$all` the port shows: NovaCron's own streams, filtered by
 * category and event type. ESDB filters on the server by stream name *or* by
 * event type (not both), so the server narrows by one and `accept` checks the
 * rest on every event the adapter hands out.
 */
import type { Filter } from '@kurrent/kurrentdb-client';
import { NovaCronError } from '../../errors/index.ts';
import type { EventFilter } from '../port.ts';

/**
 * Snapshots live in a companion stream `snapshot-<streamId>` (stream metadata
 * `maxCount: 1`, so ESDB keeps the latest only). `snapshot` is a valid
 * category under our stream-id rules, so the ESDB adapter reserves it: the
 * port refuses to append to it, and reads of the global log never show it.
 */
export const SNAPSHOT_CATEGORY = 'snapshot';
export const SNAPSHOT_EVENT_TYPE = 'NovaCronSnapshot';
export const snapshotStreamOf = (streamId: string): string => `${SNAPSHOT_CATEGORY}-${streamId}`;

/** NovaCron's streams by name: `<category>-…` under our category rule, so no `$` system stream, and no snapshot stream. */
export const DOMAIN_STREAMS_REGEX = `^(?!${SNAPSHOT_CATEGORY}-)[a-z][a-z0-9]{0,31}-`;

const CATEGORY = /^[a-z][a-z0-9]{0,31}$/;
const EVENT_TYPE = /^[A-Za-z_][A-Za-z0-9_.]{0,199}$/;
const STREAM_CATEGORY = /^([a-z][a-z0-9]{0,31})-[A-Za-z0-9]/;

/** Every event of `$all`, system events included (record boundaries for backward reads). */
export const EVERYTHING: FilterPlan = { server: undefined, accept: () => true };

/** How often (in server search windows) a filtered subscription reports progress; the adapter does not use checkpoints. */
const CHECKPOINT_INTERVAL = 1000;

export interface FilterPlan {
  /** What the server filters on; undefined: everything, system events included. */
  server: Filter | undefined;
  /** The complete check, on the client: is this event one the port shows for the filter? */
  accept(streamId: string, type: string): boolean;
}

const escapeRegex = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function categoryOfStream(streamId: string): string | null {
  const match = STREAM_CATEGORY.exec(streamId);
  return match ? (match[1] as string) : null;
}

export function planFilter(filter: EventFilter | undefined): FilterPlan {
  const categories = [...(filter?.categories ?? [])];
  const types = [...(filter?.eventTypes ?? [])];
  for (const category of categories) {
    if (typeof category !== 'string' || !CATEGORY.test(category)) {
      throw new NovaCronError('NC_VALIDATION', `filter category ${JSON.stringify(category)} must be a-z0-9, starting with a letter`, {
        details: { field: 'filter.categories' },
      });
    }
  }
  for (const type of types) {
    if (typeof type !== 'string' || !EVENT_TYPE.test(type)) {
      throw new NovaCronError('NC_VALIDATION', `filter event type ${JSON.stringify(type)} is not an event type name`, {
        details: { field: 'filter.eventTypes' },
      });
    }
  }
  const categorySet = new Set(categories);
  const typeSet = new Set(types);
  let server: Filter;
  if (categories.length > 0) {
    server = { filterOn: 'streamName', checkpointInterval: CHECKPOINT_INTERVAL, prefixes: categories.map((c) => `${c}-`) };
  } else if (types.length > 0) {
    server = { filterOn: 'eventType', checkpointInterval: CHECKPOINT_INTERVAL, regex: `^(?:${types.map(escapeRegex).join('|')})$` };
  } else {
    server = { filterOn: 'streamName', checkpointInterval: CHECKPOINT_INTERVAL, regex: DOMAIN_STREAMS_REGEX };
  }
  return {
    server,
    accept(streamId, type) {
      const category = categoryOfStream(streamId);
      if (category === null || category === SNAPSHOT_CATEGORY || type.startsWith('$')) return false;
      if (categorySet.size > 0 && !categorySet.has(category)) return false;
      return typeSet.size === 0 || typeSet.has(type);
    },
  };
}
