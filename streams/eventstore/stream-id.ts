import { NovaCronError } from '../errors/index.ts';

/**
 * Stream ids are `<category>-<id>`: a lower-case category (letters and digits,
 * starting with a letter) and an id of letters, digits and `._:@-`, at most
 * 200 characters in all. Nothing else is allowed: no spaces, slashes, `$`
 * (reserved for system streams in EventStoreDB) or control characters.
 */
const STREAM_ID = /^([a-z][a-z0-9]{0,31})-([A-Za-z0-9][A-Za-z0-9._:@-]*)$/;
export const MAX_STREAM_ID_LENGTH = 200;

export function parseStreamId(streamId: unknown): { category: string; id: string } {
  if (typeof streamId !== 'string' || streamId.length > MAX_STREAM_ID_LENGTH) {
    throw invalid(streamId, `must be a string of at most ${MAX_STREAM_ID_LENGTH} characters`);
  }
  const match = STREAM_ID.exec(streamId);
  if (!match) throw invalid(streamId, 'must look like <category>-<id> using only a-z0-9 in the category and A-Za-z0-9._:@- in the id');
  return { category: match[1] as string, id: match[2] as string };
}

export const categoryOf = (streamId: string): string => parseStreamId(streamId).category;

export const streamIdOf = (category: string, id: string): string => `${category}-${id}`;

function invalid(streamId: unknown, reason: string): NovaCronError {
  const shown = typeof streamId === 'string' ? JSON.stringify(streamId.slice(0, 80)) : typeof streamId;
  return new NovaCronError('NC_STREAM_ID_INVALID', `invalid stream id ${shown}: ${reason}`, {
    details: { streamId: typeof streamId === 'string' ? streamId.slice(0, 256) : null, reason },
  });
}
