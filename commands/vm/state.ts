import type { VmMigrationKind, VmSpec } from '../../schemas/generated/events.ts';
import { ignoreEvent, type DomainEvent } from '../decider.ts';

export type VmLifecycle = 'stopped' | 'running' | 'paused' | 'migrating' | 'failed' | 'deleted';

export type VmEvent = DomainEvent<
  | 'VmCreated'
  | 'VmStarted'
  | 'VmStopped'
  | 'VmRestarted'
  | 'VmPaused'
  | 'VmResumed'
  | 'VmResized'
  | 'VmMigrationStarted'
  | 'VmMigrationCompleted'
  | 'VmMigrationFailed'
  | 'VmSnapshotTaken'
  | 'VmDeleted'
  | 'VmFailed'
>;

export interface PendingMigration {
  migrationId: string;
  kind: VmMigrationKind;
  sourceNodeId: string;
  targetNodeId: string;
  targetRegionId: string;
  capacityReservationId: string;
  /** State the VM returns to when the migration ends: running (live, warm) or stopped (cold). */
  resumeAs: 'running' | 'stopped';
}

/** A VM. No personal data (SSH keys, user data stay in the event), so the state can be snapshotted. */
export interface Vm {
  vmId: string;
  tenantId: string;
  name: string;
  state: VmLifecycle;
  nodeId: string;
  regionId: string;
  spec: VmSpec;
  migration: PendingMigration | null;
  snapshots: number;
}

/** null: the VM does not exist. */
export type VmState = Vm | null;

export const initialState = (): VmState => null;

export function evolve(state: VmState, event: VmEvent): VmState {
  if (event.type === 'VmCreated') {
    const { vmId, tenantId, name, spec, nodeId, regionId } = event.data;
    return { vmId, tenantId, name, state: 'stopped', nodeId, regionId, spec: { ...spec }, migration: null, snapshots: 0 };
  }
  if (state === null) return state;
  switch (event.type) {
    case 'VmStarted':
    case 'VmResumed':
    case 'VmRestarted':
      return { ...state, state: 'running' };
    case 'VmStopped':
      return { ...state, state: 'stopped' };
    case 'VmPaused':
      return { ...state, state: 'paused' };
    case 'VmResized':
      return { ...state, spec: { ...state.spec, ...event.data.to } };
    case 'VmMigrationStarted': {
      const { migrationId, kind, sourceNodeId, targetNodeId, targetRegionId, capacityReservationId } = event.data;
      const resumeAs = state.state === 'stopped' ? 'stopped' : 'running';
      const migration = { migrationId, kind, sourceNodeId, targetNodeId, targetRegionId, capacityReservationId, resumeAs } as const;
      return { ...state, state: 'migrating', migration };
    }
    case 'VmMigrationCompleted':
      return {
        ...state,
        state: state.migration?.resumeAs ?? 'running',
        nodeId: event.data.targetNodeId,
        regionId: state.migration?.targetRegionId ?? state.regionId,
        migration: null,
      };
    case 'VmMigrationFailed':
      return { ...state, state: state.migration?.resumeAs ?? 'running', migration: null };
    case 'VmSnapshotTaken':
      return { ...state, snapshots: state.snapshots + 1 };
    case 'VmDeleted':
      return { ...state, state: 'deleted', migration: null };
    case 'VmFailed':
      return { ...state, state: 'failed', migration: null };
    default:
      return ignoreEvent(event, state);
  }
}
