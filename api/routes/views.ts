/** Response shapes of the command and query routes (TypeBox), and the functions that build them from aggregate states. */
import { Type, type Static } from 'typebox';
import type { Cluster } from '../../commands/cluster/state.ts';
import type { Node } from '../../commands/node/state.ts';
import { allocatable } from '../../commands/node/state.ts';
import type { Region } from '../../commands/region/state.ts';
import type { Tenant } from '../../commands/tenant/state.ts';
import type { Vm } from '../../commands/vm/state.ts';

export const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$', description: 'Letters, digits and ._:@-, at most 128 characters.' });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
/** Non-blank text: at least one character that is not white space (the deciders refuse blank text). */
export const NonBlank = (maxLength = 255, options: { description?: string } = {}) => Type.String({ minLength: 1, maxLength, pattern: '\\S', ...options });
/** Free-form labels: keys of 1 to 63 characters, not blank; values of at most 255. */
export const Labels = Type.Record(Type.String(), Type.String({ maxLength: 255 }), {
  maxProperties: 64,
  propertyNames: Type.String({ minLength: 1, maxLength: 63, pattern: '\\S' }),
});

/** What every command answers besides its own fields. */
export const Recorded = {
  streamId: Type.String({ description: 'The stream the command wrote to.' }),
  revision: Type.Integer({ description: "Revision of the stream's last event after the command." }),
  position: Type.Integer({ description: "Global position of the stream's last event: pass it as X-NovaCron-After for read-your-writes." }),
};
export interface RecordedFields {
  streamId: string;
  revision: number;
  position: number;
}
export const recorded = (o: RecordedFields): RecordedFields => ({ streamId: o.streamId, revision: o.revision, position: o.position });

const Resources = {
  vcpus: Type.Integer(),
  memoryMiB: Type.Integer(),
  diskGiB: Type.Integer(),
};

export const QuotaSchema = Type.Object(
  {
    vms: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
    vcpus: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
    memoryMiB: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
    diskGiB: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
  },
  { additionalProperties: false },
);

export const VmView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  state: Type.Union([
    Type.Literal('stopped'),
    Type.Literal('running'),
    Type.Literal('paused'),
    Type.Literal('migrating'),
    Type.Literal('failed'),
    Type.Literal('deleted'),
  ]),
  nodeId: Type.String(),
  regionId: Type.String(),
  ...Resources,
  image: Type.String(),
  snapshots: Type.Integer(),
  migration: Type.Union([
    Type.Null(),
    Type.Object({ migrationId: Type.String(), kind: Type.String(), sourceNodeId: Type.String(), targetNodeId: Type.String() }),
  ]),
});
/** The migration in flight, as VmView shows it (null when none). */
export const migrationView = (m: { migrationId: string; kind: string; sourceNodeId: string; targetNodeId: string } | null): Static<typeof VmView>['migration'] =>
  m ? { migrationId: m.migrationId, kind: m.kind, sourceNodeId: m.sourceNodeId, targetNodeId: m.targetNodeId } : null;
export const vmView = (vm: Vm): Static<typeof VmView> => ({
  id: vm.vmId,
  tenantId: vm.tenantId,
  name: vm.name,
  state: vm.state,
  nodeId: vm.nodeId,
  regionId: vm.regionId,
  vcpus: vm.spec.vcpus,
  memoryMiB: vm.spec.memoryMiB,
  diskGiB: vm.spec.diskGiB,
  image: vm.spec.image,
  snapshots: vm.snapshots,
  migration: migrationView(vm.migration),
});

const QuotaAmounts = Type.Object({ vms: Type.Integer(), vcpus: Type.Integer(), memoryMiB: Type.Integer(), diskGiB: Type.Integer() });
const CapacityAmounts = Type.Object({ vcpus: Type.Integer(), memoryMiB: Type.Integer(), diskGiB: Type.Integer() });

export const TenantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.String({ description: 'active, suspended or deleted' }),
  quota: QuotaSchema,
  allowedRegions: Type.Array(Type.String()),
  usage: QuotaAmounts,
  reservations: Type.Integer({ description: 'Open quota reservations (VM creations in flight).' }),
});
export const tenantView = (t: Tenant): Static<typeof TenantView> => ({
  id: t.tenantId,
  name: t.name,
  status: t.status,
  quota: t.quota,
  allowedRegions: t.allowedRegions,
  usage: t.used,
  reservations: Object.keys(t.reservations).length,
});

export const NodeView = Type.Object({
  id: Type.String(),
  regionId: Type.String(),
  clusterId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: 'active, cordoned, draining, failed or decommissioned' }),
  capacity: CapacityAmounts,
  overcommitRatio: Type.Number(),
  allocatable: CapacityAmounts,
  allocated: CapacityAmounts,
  vms: Type.Array(Type.String()),
  reservations: Type.Integer(),
});
export const nodeView = (n: Node): Static<typeof NodeView> => ({
  id: n.nodeId,
  regionId: n.regionId,
  clusterId: n.clusterId,
  status: n.status,
  capacity: n.capacity,
  overcommitRatio: n.overcommitRatio,
  allocatable: allocatable(n.capacity, n.overcommitRatio),
  allocated: n.used,
  vms: Object.keys(n.committed).sort(),
  reservations: Object.keys(n.reservations).length,
});

export const RegionView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  lat: Type.Number(),
  lon: Type.Number(),
  complianceZone: Type.String(),
  costPerVcpuHour: Type.Number(),
  shards: Type.Integer(),
  status: Type.String({ description: 'active or retired' }),
});
export const regionView = (r: Region): Static<typeof RegionView> => ({
  id: r.regionId,
  name: r.name,
  lat: r.lat,
  lon: r.lon,
  complianceZone: r.complianceZone,
  costPerVcpuHour: r.costPerVcpuHour,
  shards: r.shards,
  status: r.status,
});

export const ClusterView = Type.Object({
  id: Type.String(),
  regionId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  healthy: Type.Union([Type.Boolean(), Type.Null()], { description: 'Last reported health; null before any report.' }),
});
export const clusterView = (c: Cluster): Static<typeof ClusterView> => ({
  id: c.clusterId,
  regionId: c.regionId,
  status: c.status,
  healthy: c.healthy,
});
