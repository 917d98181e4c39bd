import { newTraceparent } from '../../streams/eventstore/index.ts';

/** Who and what a command comes from; written into every event's metadata. */
export interface CommandContext {
  /** `operator:<sub>`, `tenant:<tenantId>:<sub>`, `system:<component>`. */
  actor: string;
  correlationId: string;
  causationId?: string | null;
  traceparent?: string;
  /** The instant the command is decided at. */
  now: Date;
}

/** A system component acting on its own (the sweeper, the saga's compensations): a new trace. */
export const systemContext = (component: string, now: Date, correlationId: string): CommandContext => ({
  actor: `system:${component}`,
  correlationId,
  traceparent: newTraceparent(),
  now,
});
