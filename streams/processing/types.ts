import type { RecordedEvent } from '../eventstore/index.ts';

/**
 * A projection's processor: a pure function from a batch of events (and the
 * current projection state, read through the writer) to writes. It never calls
 * another processor and never writes anything but its own state store.
 */
export interface Processor<Writer> {
  /** Stable name: the checkpoint, the metrics and the state files are keyed by it. */
  name: string;
  /** Event types it applies; any other event only moves its checkpoint. */
  handles: readonly string[];
  /** Applies events in log order. Deterministic: replaying the log gives the same state. */
  apply(batch: readonly RecordedEvent[], writer: Writer): void | Promise<void>;
  /**
   * Awaited before each batch's apply (and its transaction), with the same
   * events: slow work the apply will need, done off the event loop (the shard
   * map builds its rings in a worker thread). Only saves work: apply must give
   * the same result without it. A failure counts as the apply's would.
   */
  prepare?(batch: readonly RecordedEvent[]): Promise<void>;
}

export interface ParkedEvent {
  position: number;
  streamId: string;
  revision: number;
  type: string;
  error: string;
  parkedAt: string;
}

/**
 * Where a processor keeps its state and its checkpoint. `commit` makes the
 * writes and the new checkpoint one atomic step (a SQLite transaction, a Redis
 * MULTI/EXEC), so a crash anywhere loses nothing and applies nothing twice.
 */
export interface StateStore<Writer> {
  /** Position of the last event applied (0: none). */
  checkpoint(): Promise<number>;
  /** Runs `work` against the writer and moves the checkpoint to `position`, atomically. */
  commit(position: number, work: (writer: Writer) => void | Promise<void>): Promise<void>;
  /** Records an event the processor cannot apply, and moves the checkpoint past it, atomically. */
  park(event: RecordedEvent, error: unknown): Promise<void>;
  parked(limit?: number): Promise<ParkedEvent[]>;
  parkedCount(): Promise<number>;
  close(): Promise<void>;
}

/** Thrown (by fault injection in tests, or by a store that lost its connection for good) to stop a runner without parking. */
export class FatalProcessorError extends Error {
  override name = 'FatalProcessorError';
}
