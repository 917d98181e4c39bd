/** Hours since the Unix epoch: the bucket of an instant. */
export const HOUR_MS = 3_600_000;

/** The hour an ISO-8601 instant falls in; RangeError for something that is not an instant. */
export function hourOf(instant: string): number {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO-8601 instant: ${JSON.stringify(instant)}`);
  return Math.floor(ms / HOUR_MS);
}

/** The start of an hour as an ISO-8601 instant. */
export const isoOfHour = (hour: number): string => new Date(hour * HOUR_MS).toISOString();
