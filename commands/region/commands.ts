import type { Command } from '../command.ts';

/** lat in [-90, 90], lon in [-180, 180], costPerVcpuHour ≥ 0, shards 1..1000 (default 100). */
export type AddRegion = Command<
  'AddRegion',
  { regionId: string; name: string; lat: number; lon: number; complianceZone: string; costPerVcpuHour: number; shards?: number }
>;
/** Any subset of the attributes (at least one); absent or null means unchanged. Not on a retired region. */
export type UpdateRegion = Command<
  'UpdateRegion',
  {
    regionId: string;
    name?: string | null;
    lat?: number | null;
    lon?: number | null;
    complianceZone?: string | null;
    costPerVcpuHour?: number | null;
    shards?: number | null;
  }
>;
/** A retired region takes no placements; it is final. */
export type RetireRegion = Command<'RetireRegion', { regionId: string }>;

export type RegionCommand = AddRegion | UpdateRegion | RetireRegion;
