import { NovaCronError } from '../../streams/errors/index.ts';

/** Longest range an analytics query may span. */
export const MAX_RANGE_DAYS = 366;

/** `2026-03-01`, or `2026-03-01T10:00[:00[.000]]` with `Z` or an offset. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$/;

/** Whether the date part names a real day (Date.parse takes 2026-02-30 as March 2nd). */
function realDay(match: RegExpExecArray): boolean {
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/** Last instant ClickHouse's DateTime holds (2106-02-07T06:28:15Z). */
const MAX_SECONDS = 2 ** 32 - 1;

function invalid(field: 'from' | 'to', message: string): NovaCronError {
  return new NovaCronError('NC_VALIDATION', `querystring.${field} ${message}`, {
    details: { location: 'querystring', field, errors: [{ field, message }] },
  });
}

function instant(field: 'from' | 'to', value: string): number {
  const match = ISO_8601.exec(value);
  const ms = match && realDay(match) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(field, 'must be an ISO-8601 instant such as 2026-03-01T00:00:00Z (or a date, 2026-03-01, at midnight UTC)');
  if (ms % 3_600_000 !== 0) throw invalid(field, 'must be the start of an hour (minutes, seconds and milliseconds 0): analytics are hourly');
  const seconds = ms / 1000;
  if (seconds < 0 || seconds > MAX_SECONDS) throw invalid(field, 'must lie between 1970-01-01T00:00:00Z and 2106-02-07T06:00:00Z');
  return seconds;
}

/** `from` and `to` of an analytics query as unix seconds: whole hours, `to` after `from`, at most MAX_RANGE_DAYS apart (NC_VALIDATION naming the field otherwise). */
export function hourRange(from: string, to: string): { from: number; to: number } {
  const range = { from: instant('from', from), to: instant('to', to) };
  if (range.to <= range.from) throw invalid('to', 'must be after from');
  if (range.to - range.from > MAX_RANGE_DAYS * 86_400) throw invalid('to', `must be at most ${MAX_RANGE_DAYS} days after from`);
  return range;
}
