import { NovaCronError } from '../../streams/errors/index.ts';
import { unknownCommand, type Decider } from '../decider.ts';
import { alreadyExists, notFound } from '../shared/errors.ts';
import { invalid, requireId, requireInt, requireNumber, requireText } from '../shared/validation.ts';
import type { AddRegion, RegionCommand, RetireRegion, UpdateRegion } from './commands.ts';
import { evolve, initialState, type Region, type RegionEvent, type RegionState } from './state.ts';

/** Shard counts: each shard is 1000 virtual nodes in the shard map, so the ceiling keeps one region's ring under 10M points. */
/** At most 1000 shards: a ring of 10,000 took ~6-9 s to build and stalled the whole server (issue 11 item 7). */
export const REGION_SHARDS = { min: 1, max: 1000, default: 100 } as const;

const check = {
  name: (v: unknown) => requireText('name', v),
  lat: (v: unknown) => requireNumber('lat', v, { min: -90, max: 90 }),
  lon: (v: unknown) => requireNumber('lon', v, { min: -180, max: 180 }),
  complianceZone: (v: unknown) => requireText('complianceZone', v, { maxLength: 64 }),
  costPerVcpuHour: (v: unknown) => requireNumber('costPerVcpuHour', v, { min: 0 }),
  shards: (v: unknown) => requireInt('shards', v, REGION_SHARDS),
};

export function decide(command: RegionCommand, state: RegionState): RegionEvent[] {
  switch (command.type) {
    case 'AddRegion':
      return add(command, state);
    case 'UpdateRegion':
      return update(command, state);
    case 'RetireRegion':
      return [{ type: 'RegionRetired', data: { regionId: activeRegion(command, state).regionId } }];
    default:
      return unknownCommand(command);
  }
}

export const regionDecider: Decider<RegionCommand, RegionEvent, RegionState> = { initialState, evolve, decide };

function activeRegion(command: UpdateRegion | RetireRegion, state: RegionState): Region {
  if (state === null) throw notFound('region', command.data.regionId);
  if (state.status === 'retired') {
    throw new NovaCronError('NC_REGION_RETIRED', `region ${state.regionId} is retired`, { details: { regionId: state.regionId, command: command.type } });
  }
  return state;
}

function add({ data }: AddRegion, state: RegionState): RegionEvent[] {
  const regionId = requireId('regionId', data.regionId);
  const added = {
    regionId,
    name: check.name(data.name),
    lat: check.lat(data.lat),
    lon: check.lon(data.lon),
    complianceZone: check.complianceZone(data.complianceZone),
    costPerVcpuHour: check.costPerVcpuHour(data.costPerVcpuHour),
    shards: check.shards(data.shards ?? REGION_SHARDS.default),
  };
  if (state !== null) throw alreadyExists('region', regionId);
  return [{ type: 'RegionAdded', data: added }];
}

/** Only attributes that change are sent; the rest are null ("unchanged"). Nothing changes: no events. */
function update(command: UpdateRegion, state: RegionState): RegionEvent[] {
  const { data } = command;
  const given = {
    name: optional(data.name, check.name),
    lat: optional(data.lat, check.lat),
    lon: optional(data.lon, check.lon),
    complianceZone: optional(data.complianceZone, check.complianceZone),
    costPerVcpuHour: optional(data.costPerVcpuHour, check.costPerVcpuHour),
    shards: optional(data.shards, check.shards),
  };
  if (Object.values(given).every((v) => v === null)) throw invalid('data', `must set at least one of ${Object.keys(given).join(', ')}`);
  const region = activeRegion(command, state);
  const updated = {
    regionId: region.regionId,
    name: changed(given.name, region.name),
    lat: changed(given.lat, region.lat),
    lon: changed(given.lon, region.lon),
    complianceZone: changed(given.complianceZone, region.complianceZone),
    costPerVcpuHour: changed(given.costPerVcpuHour, region.costPerVcpuHour),
    shards: changed(given.shards, region.shards),
  };
  const { regionId: _id, ...attributes } = updated;
  return Object.values(attributes).some((v) => v !== null) ? [{ type: 'RegionUpdated', data: updated }] : [];
}

const optional = <T>(value: T | null | undefined, validate: (v: unknown) => T): T | null =>
  value === undefined || value === null ? null : validate(value);

const changed = <T>(value: T | null, current: T): T | null => (value === null || value === current ? null : value);
