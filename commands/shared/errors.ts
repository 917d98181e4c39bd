/** Domain errors shared by the deciders; codes come from the one catalog in streams/errors. */
import { NovaCronError } from '../../streams/errors/index.ts';

export type Entity = 'tenant' | 'vm' | 'node' | 'region' | 'cluster';

export const notFound = (entity: Entity, id: string) =>
  new NovaCronError('NC_NOT_FOUND', `${entity} ${id} does not exist`, { details: { entity, id } });

export const alreadyExists = (entity: Entity | 'quota reservation' | 'capacity reservation', id: string) =>
  new NovaCronError('NC_ALREADY_EXISTS', `${entity} ${id} already exists`, { details: { entity, id } });

export interface InvalidStateDetails {
  entity: Entity;
  id: string;
  command: string;
  /** The state (or status) the aggregate is in. */
  state: string;
  /** States in which the command is accepted. */
  allowed: readonly string[];
  [more: string]: unknown;
}

export const invalidState = (details: InvalidStateDetails, why?: string) =>
  new NovaCronError(
    'NC_INVALID_STATE',
    why ?? `${details.command} is not allowed on ${details.entity} ${details.id} in state ${details.state} (allowed: ${details.allowed.join(', ') || 'none'})`,
    { details },
  );
