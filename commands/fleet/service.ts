import type { EventStore } from '../../streams/eventstore/index.ts';
import { newEventId } from '../../streams/eventstore/index.ts';
import { isNovaCronError, NovaCronError } from '../../streams/errors/index.ts';
import type { ClusterCommand } from '../cluster/commands.ts';
import type { CommandContext } from '../handling/context.ts';
import type { CommandOutcome } from '../handling/handle-command.ts';
import type { NodeCommand } from '../node/commands.ts';
import { createFleetDirectory, type FleetDirectory } from '../placement/directory.ts';
import type { PlacementPolicy } from '../placement/policy.ts';
import type { RegionCommand } from '../region/commands.ts';
import { notFound } from '../shared/errors.ts';
import type { TenantCommand } from '../tenant/commands.ts';
import type { VmCommand } from '../vm/commands.ts';
import { aggregates, streamOf } from './aggregates.ts';
import { createRunner, meta, type FleetHooks } from './runner.ts';
import { createVmFlows, type VmResult } from './vm-flows.ts';

export interface FleetServiceOptions {
  store: EventStore;
  /** Destroys a tenant's data key when the tenant is deleted (crypto-shredding). */
  destroyTenantKey?: (tenantId: string) => void;
  hooks?: FleetHooks;
  /** How long a reservation waits for its VM before the sweeper settles it. Default 30 s. */
  reservationTimeoutMs?: number;
  newId?: () => string;
  directory?: FleetDirectory;
}

type Kind = keyof typeof aggregates;
interface CommandOf {
  tenant: TenantCommand;
  node: NodeCommand;
  vm: VmCommand;
  region: RegionCommand;
  cluster: ClusterCommand;
}
/** The folded state of each kind of aggregate (null before its first event). */
type StateOf = { [K in Kind]: ReturnType<(typeof aggregates)[K]['decider']['initialState']> };
type Without<C> = C extends { type: infer T; data: infer D } ? { type: T; data: D } : never;

/**
 * The command side as the API sees it: one call per command, each checked
 * against the current state of its aggregate (and of the others it depends on)
 * and recorded as events.
 */
export function createFleetService({
  store,
  destroyTenantKey,
  hooks = {},
  reservationTimeoutMs = 30_000,
  newId = newEventId,
  directory = createFleetDirectory(store),
}: FleetServiceOptions) {
  if (!Number.isInteger(reservationTimeoutMs) || reservationTimeoutMs < 100) {
    throw new TypeError('createFleetService: reservationTimeoutMs must be an integer >= 100');
  }
  const runner = createRunner(store, hooks);
  const vms = createVmFlows({ runner, directory, hooks, newId, reservationTimeoutMs });

  async function execute<K extends Kind>(
    kind: K,
    id: string,
    command: Without<CommandOf[K]>,
    context: CommandContext,
    tenantId: string | null = null,
    /** Checked on the aggregate's state before the command is decided on it; throwing refuses the command (see Runner.run). */
    guard?: (state: StateOf[K]) => void,
  ): Promise<CommandOutcome<unknown>> {
    const full = { ...command, metadata: meta(context) } as unknown as CommandOf[K];
    const outcome = await runner.run(aggregates[kind] as never, streamOf[kind](id), full, context, tenantId, guard as never);
    if ((kind === 'node' || kind === 'region' || kind === 'cluster') && outcome.events.length > 0) directory.changed?.(outcome.position);
    return outcome;
  }

  const read = <K extends Kind>(kind: K, id: string) => runner.read(aggregates[kind] as never, streamOf[kind](id));

  async function requireActiveRegion(regionId: string): Promise<void> {
    const { state } = await runner.read(aggregates.region, streamOf.region(regionId));
    if (state === null) throw notFound('region', regionId);
    if (state.status === 'retired') {
      throw new NovaCronError('NC_REGION_RETIRED', `region ${regionId} is retired`, { details: { regionId } });
    }
  }

  return {
    directory,
    newId,
    execute,
    read,
    vms,

    async registerNode(context: CommandContext, data: Extract<NodeCommand, { type: 'RegisterNode' }>['data']) {
      await requireActiveRegion(data.regionId);
      if (data.clusterId) {
        const cluster = await runner.read(aggregates.cluster, streamOf.cluster(data.clusterId));
        if (cluster.state === null) throw notFound('cluster', data.clusterId);
        if (cluster.state.regionId !== data.regionId || cluster.state.status !== 'joined') {
          throw new NovaCronError('NC_VALIDATION', `cluster ${data.clusterId} is not joined to region ${data.regionId}`, {
            details: { field: 'clusterId' },
          });
        }
      }
      return execute('node', data.nodeId, { type: 'RegisterNode', data }, context);
    },

    async joinCluster(context: CommandContext, data: { clusterId: string; regionId: string }) {
      await requireActiveRegion(data.regionId);
      return execute('cluster', data.clusterId, { type: 'JoinCluster', data }, context);
    },

    async createTenant(context: CommandContext, data: Extract<TenantCommand, { type: 'CreateTenant' }>['data']) {
      for (const regionId of data.allowedRegions) {
        const { state } = await runner.read(aggregates.region, streamOf.region(regionId));
        if (state === null) throw notFound('region', regionId);
      }
      return execute('tenant', data.tenantId, { type: 'CreateTenant', data }, context, data.tenantId);
    },

    /** Deletes the tenant (only without VMs) and destroys its data key: its personal data becomes unreadable. */
    async deleteTenant(context: CommandContext, tenantId: string) {
      const outcome = await execute('tenant', tenantId, { type: 'DeleteTenant', data: { tenantId } }, context);
      // At once when it can; if not, the key-shredding processor destroys it from the log (TenantDeleted), retrying until it has.
      try {
        destroyTenantKey?.(tenantId);
      } catch {
        // projections/key-shredding makes it certain
      }
      return outcome;
    },

    /** Marks the node failed, then every VM on it. */
    async failNode(context: CommandContext, nodeId: string, reason: string) {
      const outcome = await execute('node', nodeId, { type: 'MarkNodeFailed', data: { nodeId, reason } }, context);
      const failed = outcome.events.find((e) => e.type === 'NodeFailed');
      const vmIds = failed?.type === 'NodeFailed' ? failed.data.vmIds : [];
      await Promise.allSettled(vmIds.map((vmId) => execute('vm', vmId, { type: 'FailVm', data: { vmId, reason: `node ${nodeId} failed: ${reason}` } }, context)));
      return { ...outcome, vmIds };
    },

    /** Cordons the node and migrates every VM on it elsewhere (live if running, cold if stopped). */
    async drainNode(context: CommandContext, nodeId: string, reason: string | null = null) {
      const outcome = await execute('node', nodeId, { type: 'DrainNode', data: { nodeId, reason } }, context);
      const started = outcome.events.find((e) => e.type === 'NodeDrainStarted');
      const vmIds = started?.type === 'NodeDrainStarted' ? started.data.vmIds : [];
      const migrations = await Promise.allSettled(
        vmIds.map(async (vmId) => {
          const { state: vm } = await runner.read(aggregates.vm, streamOf.vm(vmId));
          if (vm === null) return;
          const tenant = await runner.read(aggregates.tenant, streamOf.tenant(vm.tenantId));
          const kind = vm.state === 'running' ? 'live' : 'cold';
          await vms.migrate(context, vmId, { kind, allowedRegions: tenant.state?.allowedRegions ?? [vm.regionId] });
        }),
      );
      const failed = migrations.flatMap((m, i) =>
        m.status === 'rejected' ? [{ vmId: vmIds[i] as string, code: isNovaCronError(m.reason) ? m.reason.code : 'NC_INTERNAL' }] : [],
      );
      return { ...outcome, vmIds, failedMigrations: failed };
    },

    /** Starts a stopped VM; a suspended tenant starts nothing. `guard` is checked on the VM first (see execute). */
    async startVm(context: CommandContext, vmId: string, guard?: (vm: StateOf['vm']) => void) {
      const { state: vm } = await runner.read(aggregates.vm, streamOf.vm(vmId));
      guard?.(vm);
      if (vm === null) throw notFound('vm', vmId);
      const tenant = await runner.read(aggregates.tenant, streamOf.tenant(vm.tenantId));
      if (tenant.state?.status === 'suspended') {
        throw new NovaCronError('NC_TENANT_SUSPENDED', `tenant ${vm.tenantId} is suspended and starts no VM`, { details: { tenantId: vm.tenantId } });
      }
      return execute('vm', vmId, { type: 'StartVm', data: { vmId } }, context, vm.tenantId, guard);
    },

    async createVm(context: CommandContext, input: Parameters<typeof vms.create>[1]): Promise<VmResult> {
      return vms.create(context, input);
    },

    async migrateVm(context: CommandContext, vmId: string, input: { kind: 'cold' | 'warm' | 'live'; targetNodeId?: string; policy?: PlacementPolicy }) {
      const { state: vm } = await runner.read(aggregates.vm, streamOf.vm(vmId));
      if (vm === null) throw notFound('vm', vmId);
      const tenant = await runner.read(aggregates.tenant, streamOf.tenant(vm.tenantId));
      return vms.migrate(context, vmId, { ...input, allowedRegions: tenant.state?.allowedRegions ?? [vm.regionId] });
    },
  };
}

export type FleetService = ReturnType<typeof createFleetService>;
