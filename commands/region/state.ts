import { ignoreEvent, type DomainEvent } from '../decider.ts';

export type RegionEvent = DomainEvent<'RegionAdded' | 'RegionUpdated' | 'RegionRetired'>;

export type RegionStatus = 'active' | 'retired';

export interface Region {
  regionId: string;
  name: string;
  lat: number;
  lon: number;
  complianceZone: string;
  costPerVcpuHour: number;
  shards: number;
  status: RegionStatus;
}

/** null: the region does not exist. */
export type RegionState = Region | null;

export const initialState = (): RegionState => null;

/** Whether new VMs may be placed in the region: it exists and is not retired. */
export const canPlace = (state: RegionState): boolean => state !== null && state.status === 'active';

export function evolve(state: RegionState, event: RegionEvent): RegionState {
  if (event.type === 'RegionAdded') return { ...event.data, status: 'active' };
  if (state === null) return state;
  switch (event.type) {
    case 'RegionUpdated': {
      const { name, lat, lon, complianceZone, costPerVcpuHour, shards } = event.data;
      return {
        ...state,
        name: name ?? state.name,
        lat: lat ?? state.lat,
        lon: lon ?? state.lon,
        complianceZone: complianceZone ?? state.complianceZone,
        costPerVcpuHour: costPerVcpuHour ?? state.costPerVcpuHour,
        shards: shards ?? state.shards,
      };
    }
    case 'RegionRetired':
      return { ...state, status: 'retired' };
    default:
      return ignoreEvent(event, state);
  }
}
