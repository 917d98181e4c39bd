import { describe, expect, it } from 'vitest';
import type { RegionUpdated } from '../../schemas/generated/events.ts';
import { DeciderSpecification } from '../testing/specification.ts';
import type { AddRegion, RegionCommand, UpdateRegion } from './commands.ts';
import { regionDecider } from './decider.ts';
import { canPlace, type RegionEvent } from './state.ts';

const spec = DeciderSpecification.for(regionDecider);
const metadata = { now: '2025-01-01T00:00:00Z' };
const regionId = 'eu-west';
const attributes = { name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.021 };

const command = {
  add: (data: Partial<AddRegion['data']> = {}): RegionCommand => ({ type: 'AddRegion', data: { regionId, ...attributes, ...data }, metadata }),
  update: (data: Omit<UpdateRegion['data'], 'regionId'>): RegionCommand => ({ type: 'UpdateRegion', data: { regionId, ...data }, metadata }),
  retire: (): RegionCommand => ({ type: 'RetireRegion', data: { regionId }, metadata }),
};

const unchanged: Omit<RegionUpdated, 'regionId'> = { name: null, lat: null, lon: null, complianceZone: null, costPerVcpuHour: null, shards: null };
const event = {
  added: { type: 'RegionAdded', data: { regionId, ...attributes, shards: 100 } },
  updated: (data: Partial<typeof unchanged>): RegionEvent => ({ type: 'RegionUpdated', data: { regionId, ...unchanged, ...data } }),
  retired: { type: 'RegionRetired', data: { regionId } },
} satisfies Record<string, RegionEvent | ((...args: never[]) => RegionEvent)>;

const fold = (events: RegionEvent[]) => events.reduce(regionDecider.evolve, regionDecider.initialState());

describe('region decider', () => {
  describe('when the region does not exist', () => {
    it('adds it with 100 shards by default', () => spec.given([]).when(command.add()).then([event.added]));
    it('adds it with a shard count', () => spec.given([]).when(command.add({ shards: 1 })).then([{ ...event.added, data: { ...event.added.data, shards: 1 } }]));
    it('accepts the edges of the map and a free region', () => {
      const edge = { lat: -90, lon: 180, costPerVcpuHour: 0 };
      spec.given([]).when(command.add(edge)).then([{ ...event.added, data: { ...event.added.data, ...edge } }]);
    });
    it.each([
      ['lat', { lat: 90.01 }],
      ['lat', { lat: Number.NaN }],
      ['lon', { lon: -180.5 }],
      ['costPerVcpuHour', { costPerVcpuHour: -0.01 }],
      ['shards', { shards: 0 }],
      ['shards', { shards: 2.5 }],
      ['shards', { shards: 10_001 }],
      ['name', { name: '' }],
      ['complianceZone', { complianceZone: ' ' }],
    ])('rejects an invalid %s', (field, data) => spec.given([]).when(command.add(data)).thenThrows('NC_VALIDATION', { field }));
    it.each([command.update({ shards: 12 }), command.retire()])('rejects $type as not found', (c) =>
      spec.given([]).when(c).thenThrows('NC_NOT_FOUND', { entity: 'region', id: regionId }));
    it('takes no placements', () => expect(canPlace(fold([]))).toBe(false));
  });

  describe('when the region is active', () => {
    it('refuses to add it again', () => spec.given([event.added]).when(command.add()).thenThrows('NC_ALREADY_EXISTS', { entity: 'region', id: regionId }));
    it('sets the shard count', () => spec.given([event.added]).when(command.update({ shards: 120 })).then([event.updated({ shards: 120 })]));
    it('updates cost, coordinates and compliance zone together', () =>
      spec
        .given([event.added])
        .when(command.update({ costPerVcpuHour: 0.03, lat: 53.4, lon: -6.3, complianceZone: 'eu-sovereign' }))
        .then([event.updated({ costPerVcpuHour: 0.03, lat: 53.4, lon: -6.3, complianceZone: 'eu-sovereign' })]));
    it('sends only what changes', () =>
      spec.given([event.added]).when(command.update({ name: 'Dublin', shards: 100, costPerVcpuHour: 0.05 })).then([event.updated({ costPerVcpuHour: 0.05 })]));
    it('does nothing when nothing changes', () => spec.given([event.added]).when(command.update({ name: 'Dublin', lat: 53.35 })).then([]));
    it('compares with the state after earlier updates', () =>
      spec.given([event.added, event.updated({ shards: 120 })]).when(command.update({ shards: 120 })).then([]));
    it('rejects an update that sets nothing', () => spec.given([event.added]).when(command.update({ name: null })).thenThrows('NC_VALIDATION', { field: 'data' }));
    it.each([
      ['shards', { shards: 0 }],
      ['lat', { lat: -91 }],
      ['costPerVcpuHour', { costPerVcpuHour: Number.POSITIVE_INFINITY }],
    ])('rejects an invalid %s', (field, data) => spec.given([event.added]).when(command.update(data)).thenThrows('NC_VALIDATION', { field }));
    it('retires it', () => spec.given([event.added]).when(command.retire()).then([event.retired]));
    it('takes placements', () => expect(canPlace(fold([event.added]))).toBe(true));
  });

  describe('when the region is retired', () => {
    const retired = [event.added, event.retired];
    it('refuses to add it again', () => spec.given(retired).when(command.add()).thenThrows('NC_ALREADY_EXISTS'));
    it('refuses updates', () => spec.given(retired).when(command.update({ shards: 50 })).thenThrows('NC_REGION_RETIRED', { regionId, command: 'UpdateRegion' }));
    it('refuses to retire it again', () => spec.given(retired).when(command.retire()).thenThrows('NC_REGION_RETIRED', { regionId }));
    it('takes no placements', () => expect(canPlace(fold(retired))).toBe(false));
  });
});
