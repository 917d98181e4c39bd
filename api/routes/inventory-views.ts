/** Views of the inventory's records: the same shapes the strong reads answer (views.ts), plus the list items' extras. */
import { Type, type Static } from 'typebox';
import type { NodeDetail, RegionRecord, TenantRecord, VmRecord } from '../../projections/inventory/index.ts';
import { migrationView, NodeView, regionView, RegionView, TenantView, VmView } from './views.ts';

export const vmRecordView = (v: VmRecord): Static<typeof VmView> => ({
  id: v.vmId,
  tenantId: v.tenantId,
  name: v.name,
  state: v.state,
  nodeId: v.nodeId,
  regionId: v.regionId,
  vcpus: v.vcpus,
  memoryMiB: v.memoryMiB,
  diskGiB: v.diskGiB,
  image: v.image,
  snapshots: v.snapshots,
  migration: migrationView(v.migration),
});

export const tenantRecordView = (t: TenantRecord): Static<typeof TenantView> => ({
  id: t.tenantId,
  name: t.name,
  status: t.status,
  quota: t.quota,
  allowedRegions: t.allowedRegions,
  usage: t.usage,
  reservations: t.reservations,
});

export const nodeRecordView = (n: NodeDetail): Static<typeof NodeView> => ({
  id: n.nodeId,
  regionId: n.regionId,
  clusterId: n.clusterId,
  status: n.status,
  capacity: n.capacity,
  overcommitRatio: n.overcommitRatio,
  allocatable: n.allocatable,
  allocated: n.allocated,
  vms: n.vmIds,
  reservations: n.reservations,
});

/** A region record has the fields of the region: the same view. */
export const regionRecordView: (r: RegionRecord) => Static<typeof RegionView> = regionView;

const Totals = Type.Object({
  capacity: Type.Integer({ description: 'Of nodes in service (neither failed nor decommissioned), before overcommit.' }),
  allocatable: Type.Integer({ description: 'Of nodes in service, overcommit included.' }),
  allocated: Type.Integer({ description: 'Held by VMs, on every node.' }),
});
export const RegionTotalsView = Type.Object({
  nodes: Type.Integer({ description: 'Nodes not decommissioned.' }),
  vms: Type.Integer({ description: 'VMs not deleted.' }),
  vcpus: Totals,
  memoryMiB: Totals,
});

const Revision = Type.Integer({ description: "Revision of the entity's stream the answer reflects." });

export const VmItem = Type.Object({ ...VmView.properties, revision: Revision });
export const TenantItem = Type.Object({ ...TenantView.properties, revision: Revision });
export const NodeItem = Type.Object({ ...NodeView.properties, revision: Revision });
/** `totals` (fleet-wide counts of the region's nodes, VMs and capacity) only for operators: tenants see no fleet-wide figures. */
export const RegionItem = Type.Object({ ...RegionView.properties, totals: Type.Optional(RegionTotalsView), revision: Revision });

export const pageOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` for the next page; null on the last page. A full page always has one (the next may be empty).',
    }),
  });
