import type { ReplayOptions } from './generations.ts';
import type { ProcessorStatus } from './runner.ts';

export interface ProjectionStatus extends ProcessorStatus {
  generation: number;
  version: number;
}

/**
 * How the log reaches a projection. `global`: in the event store's one order
 * (the embedded runner), so a position says what has been applied. `per-stream`:
 * from Kafka, each stream in order in its partition but partitions
 * interleaved, so only a stream's own revision says it.
 */
export type LogOrdering = 'global' | 'per-stream';

/**
 * What the API, the CLI and the command side need of the projections, however
 * they are fed: the embedded host (streams/processing/host.ts) or the Kafka
 * one (streams/processing/kafka/host.ts), or both combined by name.
 */
export interface ProjectionHost {
  readonly names: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The active generation's queries. */
  queries<Queries>(name: string): Queries;
  ordering(name: string): LogOrdering;
  /** Resolves true once `name` has applied the event at `position` (false after `timeoutMs`). */
  waitFor(name: string, position: number, timeoutMs: number): Promise<boolean>;
  /** Resolves true once `name` has applied `streamId` up to `revision` (false after `timeoutMs`). */
  waitForStream(name: string, streamId: string, revision: number, timeoutMs: number): Promise<boolean>;
  /** What `status()` calls the checkpoint, without I/O (details of a lagging answer). */
  checkpoint(name: string): number;
  status(): Promise<ProjectionStatus[]>;
  /**
   * Rebuilds `name` into a new generation while the current one serves, then
   * switches, unless the new one parked more events or holds far fewer rows
   * than the live one (NC_REPLAY_REFUSED; `force` switches anyway).
   */
  replay(name: string, options?: ReplayOptions): Promise<{ name: string; generation: number; events: number; seconds: number }>;
}
