/**
 * A batch refused because its partition's stored offset is no longer the one
 * this instance read before the batch: another instance of the group applied
 * the partition meanwhile (this one is a zombie after a rebalance). The
 * transaction is rolled back and the batch dropped; never retried as such.
 */
export class FencedBatchError extends Error {
  override name = 'FencedBatchError';
  readonly retriable = false;
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly expected: number,
    readonly stored: number,
  ) {
    super(`${topic}[${partition}]: expected stored offset ${expected}, found ${stored}: another instance applied this partition; batch dropped`);
  }
}

export const isFenced = (error: unknown): error is FencedBatchError => error instanceof FencedBatchError;
