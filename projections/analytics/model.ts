/**
 * The analytics projection's rules, pure: from events (in log order) and the
 * state they need, to rows. No I/O: `apply.ts` loads the state from the
 * processor's store and hands the rows to it.
 *
 * - VM state intervals: a VM's life is cut into intervals of constant state,
 *   place (region, cluster, node) and size (vCPUs, memory). An event that
 *   changes any of them closes the VM's open interval (its `ended_at` is the
 *   event's time) and opens the next; VmDeleted closes the last one and opens
 *   none. Each version of an interval row carries the position of the event
 *   that wrote it, so the table's ReplacingMergeTree keeps the latest.
 * - Capacity per hour: the nodes' ledgers as the nodes keep them (a
 *   reservation allocates nothing until it is committed; a release takes back
 *   what it says, from a pending reservation or the VM's holding), summed per
 *   region and per cluster; capacity is each in-service node's capacity ×
 *   overcommit, rounded down. Every series has a row for every hour from its
 *   first node's hour to the latest event hour (of any event): when an event
 *   starts a later hour, every series is carried into the hours in between
 *   and into it.
 *
 * Time: an event's instant is its `metadata.occurredAt`, or its `recordedAt`
 * when that is earlier (a writer whose clock runs ahead of the store's cannot
 * move analytics into the future). Stream time never goes back: an event
 * older than the latest hour applied lands in that hour, and an interval never
 * ends before it started. So a replay of the log gives the same rows.
 */
import type { RecordedEvent } from '../../streams/eventstore/index.ts';
import type { EventDataMap } from '../../schemas/generated/events.ts';

export const HOUR_SECONDS = 3600;

/** The states of a VM's intervals (a deleted VM has none). */
export type VmIntervalState = 'stopped' | 'running' | 'paused' | 'migrating' | 'failed';

/** A VM's open interval, and what the next one needs. State key `vm:<vmId>`. */
export interface VmTrack {
  tenantId: string;
  state: VmIntervalState;
  regionId: string;
  clusterId: string;
  nodeId: string;
  vcpus: number;
  memoryMiB: number;
  fromRevision: number;
  fromPosition: number;
  startedAt: number;
  /** A migration in flight: where it goes, and the state it ends in. */
  migration: { targetRegionId: string; resumeAs: VmIntervalState } | null;
}

/** State key `node:<nodeId>`. vCPUs and memory are what it can hand out (capacity × overcommit). */
export interface NodeTrack {
  regionId: string;
  clusterId: string;
  vcpus: number;
  memoryMiB: number;
  inService: boolean;
}

export interface Amounts {
  vcpus: number;
  memoryMiB: number;
}

/** One capacity series (a region: clusterId ''; or one of its clusters). State key `series:<json [region, cluster]>`. */
export interface SeriesTrack {
  regionId: string;
  clusterId: string;
  allocatedVcpus: number;
  allocatedMemoryMiB: number;
  capacityVcpus: number;
  capacityMemoryMiB: number;
  nodes: number;
}

export interface IntervalRow {
  tenant_id: string;
  vm_id: string;
  from_revision: number;
  from_position: number;
  state: VmIntervalState;
  region_id: string;
  cluster_id: string;
  node_id: string;
  vcpus: number;
  memory_mib: number;
  started_at: number;
  ended_at: number | null;
  ended_by: string;
  version: number;
}

export interface CapacityRow {
  hour: number;
  region_id: string;
  cluster_id: string;
  allocated_vcpus: number;
  allocated_memory_mib: number;
  capacity_vcpus: number;
  capacity_memory_mib: number;
  nodes: number;
  version: number;
}

/** Where the rules read and write their state, and put their rows. */
export interface ModelContext {
  get<T>(key: string): T | undefined;
  /** undefined deletes. */
  set(key: string, value: unknown): void;
  interval(row: IntervalRow): void;
  capacity(row: CapacityRow): void;
}

export const keys = {
  vm: (vmId: string) => `vm:${vmId}`,
  node: (nodeId: string) => `node:${nodeId}`,
  reservation: (nodeId: string, reservationId: string) => `reservation:${JSON.stringify([nodeId, reservationId])}`,
  holding: (nodeId: string, vmId: string) => `holding:${JSON.stringify([nodeId, vmId])}`,
  series: (regionId: string, clusterId: string) => `series:${JSON.stringify([regionId, clusterId])}`,
  /** The list of series ([region, cluster] pairs). */
  seriesList: 'series',
  /** The latest event hour applied (hours since the epoch). */
  hour: 'hour',
} as const;

const VM_EVENTS = new Set([
  'VmCreated', 'VmStarted', 'VmStopped', 'VmRestarted', 'VmPaused', 'VmResumed', 'VmResized',
  'VmMigrationStarted', 'VmMigrationCompleted', 'VmMigrationFailed', 'VmSnapshotTaken', 'VmDeleted', 'VmFailed',
]);
const NODE_EVENTS = new Set(['NodeRegistered', 'NodeCapacityChanged', 'NodeFailed', 'NodeDecommissioned', 'CapacityReserved', 'CapacityCommitted', 'CapacityReleased']);

/** Whether the rules (beyond the fact table) read `event`. */
export const isModelled = (type: string): boolean => VM_EVENTS.has(type) || NODE_EVENTS.has(type);

/** The state keys the rules read for `event` (besides `hour`, `series` and the series themselves). */
export function keysOf(event: RecordedEvent): string[] {
  const d = event.data as Record<string, unknown>;
  const str = (name: string) => String(d[name]);
  if (VM_EVENTS.has(event.type)) {
    const vm = keys.vm(str('vmId'));
    return event.type === 'VmMigrationCompleted' ? [vm, keys.node(str('targetNodeId'))] : [vm];
  }
  switch (event.type) {
    case 'NodeRegistered':
    case 'NodeCapacityChanged':
    case 'NodeFailed':
    case 'NodeDecommissioned':
      return [keys.node(str('nodeId'))];
    case 'CapacityReserved':
      return [keys.reservation(str('nodeId'), str('reservationId'))];
    case 'CapacityCommitted':
    case 'CapacityReleased':
      return [keys.node(str('nodeId')), keys.reservation(str('nodeId'), str('reservationId')), keys.holding(str('nodeId'), str('vmId'))];
    default:
      return [];
  }
}

/** Unix seconds of an ISO-8601 instant; RangeError for anything else. */
export function secondsOf(instant: string): number {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO-8601 instant: ${JSON.stringify(instant)}`);
  return Math.floor(ms / 1000);
}

/** The instant an event counts at: occurredAt, or recordedAt when earlier. */
export const eventSeconds = (event: RecordedEvent): number => Math.min(secondsOf(event.metadata.occurredAt), secondsOf(event.recordedAt));

/** What a node can hand out: capacity × overcommit, rounded down (as the node aggregate counts it). */
export const allocatableOf = (capacity: { vcpus: number; memoryMiB: number }, ratio: number): Amounts => ({
  vcpus: Math.floor(capacity.vcpus * ratio + 1e-9),
  memoryMiB: Math.floor(capacity.memoryMiB * ratio + 1e-9),
});

type Data<T extends keyof EventDataMap> = EventDataMap[T];

/**
 * Applies `events` (in log order) to the state of `ctx`, writing interval and
 * capacity rows. Deterministic: the same events from the same state give the
 * same rows and the same state.
 */
export function applyModel(events: readonly RecordedEvent[], ctx: ModelContext): void {
  let hour = ctx.get<number>(keys.hour);
  let series = ctx.get<Array<[string, string]>>(keys.seriesList) ?? [];
  let seriesChanged = false;
  const hourBefore = hour;

  const writeSeries = (s: SeriesTrack, at: number, position: number) =>
    ctx.capacity({
      hour: at * HOUR_SECONDS,
      region_id: s.regionId,
      cluster_id: s.clusterId,
      allocated_vcpus: s.allocatedVcpus,
      allocated_memory_mib: s.allocatedMemoryMiB,
      capacity_vcpus: s.capacityVcpus,
      capacity_memory_mib: s.capacityMemoryMiB,
      nodes: s.nodes,
      version: position,
    });

  /** Moves stream time to the event's hour, carrying every series into the hours it skips and into the new one. */
  function advance(event: RecordedEvent): number {
    const at = eventSeconds(event);
    const eventHour = Math.floor(at / HOUR_SECONDS);
    if (hour === undefined) hour = eventHour;
    else if (eventHour > hour) {
      for (const [regionId, clusterId] of series) {
        const s = ctx.get<SeriesTrack>(keys.series(regionId, clusterId));
        if (!s) continue;
        for (let h = hour + 1; h <= eventHour; h++) writeSeries(s, h, event.position);
      }
      hour = eventHour;
    }
    return at;
  }

  /** The region's series and, when the node is in a cluster, the cluster's. */
  function scopesOf(node: NodeTrack): Array<[string, string]> {
    return node.clusterId === '' ? [[node.regionId, '']] : [[node.regionId, ''], [node.regionId, node.clusterId]];
  }

  function changeSeries(node: NodeTrack, position: number, change: (s: SeriesTrack) => void): void {
    for (const [regionId, clusterId] of scopesOf(node)) {
      const key = keys.series(regionId, clusterId);
      const known = series.some(([r, c]) => r === regionId && c === clusterId);
      let s = known ? ctx.get<SeriesTrack>(key) : undefined;
      if (!s) {
        s = { regionId, clusterId, allocatedVcpus: 0, allocatedMemoryMiB: 0, capacityVcpus: 0, capacityMemoryMiB: 0, nodes: 0 };
        series = [...series, [regionId, clusterId]];
        seriesChanged = true;
      }
      const next = { ...s };
      change(next);
      ctx.set(key, next);
      writeSeries(next, hour as number, position);
    }
  }

  const serviceOf = (node: NodeTrack) => (node.inService ? { vcpus: node.vcpus, memoryMiB: node.memoryMiB, nodes: 1 } : { vcpus: 0, memoryMiB: 0, nodes: 0 });
  /** Moves a node's contribution to capacity from `before` to `after`. */
  function recount(before: NodeTrack | null, after: NodeTrack, position: number): void {
    const was = before ? serviceOf(before) : { vcpus: 0, memoryMiB: 0, nodes: 0 };
    const now = serviceOf(after);
    changeSeries(after, position, (s) => {
      s.capacityVcpus += now.vcpus - was.vcpus;
      s.capacityMemoryMiB += now.memoryMiB - was.memoryMiB;
      s.nodes += now.nodes - was.nodes;
    });
  }

  function intervalRow(vmId: string, vm: VmTrack, end: { at: number; by: string } | null, version: number): IntervalRow {
    return {
      tenant_id: vm.tenantId,
      vm_id: vmId,
      from_revision: vm.fromRevision,
      from_position: vm.fromPosition,
      state: vm.state,
      region_id: vm.regionId,
      cluster_id: vm.clusterId,
      node_id: vm.nodeId,
      vcpus: vm.vcpus,
      memory_mib: vm.memoryMiB,
      started_at: vm.startedAt,
      ended_at: end ? Math.max(end.at, vm.startedAt) : null,
      ended_by: end ? end.by : '',
      version,
    };
  }

  /** Closes `vm`'s interval at the event and, unless `next` is null (deleted), opens `next`'s when it differs. */
  function transition(event: RecordedEvent, vmId: string, vm: VmTrack, next: VmTrack | null, at: number): void {
    const same =
      next !== null &&
      next.state === vm.state && next.regionId === vm.regionId && next.clusterId === vm.clusterId &&
      next.nodeId === vm.nodeId && next.vcpus === vm.vcpus && next.memoryMiB === vm.memoryMiB;
    if (same) {
      ctx.set(keys.vm(vmId), next);
      return;
    }
    ctx.interval(intervalRow(vmId, vm, { at, by: event.type }, event.position));
    if (next === null) {
      ctx.set(keys.vm(vmId), undefined);
      return;
    }
    const opened: VmTrack = { ...next, fromRevision: event.revision, fromPosition: event.position, startedAt: Math.max(at, vm.startedAt) };
    ctx.set(keys.vm(vmId), opened);
    ctx.interval(intervalRow(vmId, opened, null, event.position));
  }

  function applyVm(event: RecordedEvent, at: number): void {
    const vmId = String((event.data as { vmId: unknown }).vmId);
    if (event.type === 'VmCreated') {
      const d = event.data as unknown as Data<'VmCreated'>;
      const vm: VmTrack = {
        tenantId: d.tenantId,
        state: 'stopped',
        regionId: d.regionId,
        clusterId: d.clusterId ?? '',
        nodeId: d.nodeId,
        vcpus: d.spec.vcpus,
        memoryMiB: d.spec.memoryMiB,
        fromRevision: event.revision,
        fromPosition: event.position,
        startedAt: at,
        migration: null,
      };
      ctx.set(keys.vm(vmId), vm);
      ctx.interval(intervalRow(vmId, vm, null, event.position));
      return;
    }
    const vm = ctx.get<VmTrack>(keys.vm(vmId));
    if (!vm) return; // a VM this log never created: nothing to cut
    const to = (state: VmIntervalState): VmTrack => ({ ...vm, state });
    switch (event.type) {
      case 'VmStarted':
      case 'VmResumed':
      case 'VmRestarted':
        return transition(event, vmId, vm, to('running'), at);
      case 'VmStopped':
        return transition(event, vmId, vm, to('stopped'), at);
      case 'VmPaused':
        return transition(event, vmId, vm, to('paused'), at);
      case 'VmFailed':
        return transition(event, vmId, vm, { ...to('failed'), migration: null }, at);
      case 'VmResized': {
        const { to: size } = event.data as unknown as Data<'VmResized'>;
        return transition(event, vmId, vm, { ...vm, vcpus: size.vcpus, memoryMiB: size.memoryMiB }, at);
      }
      case 'VmMigrationStarted': {
        const d = event.data as unknown as Data<'VmMigrationStarted'>;
        const resumeAs: VmIntervalState = vm.state === 'stopped' ? 'stopped' : 'running';
        return transition(event, vmId, vm, { ...to('migrating'), migration: { targetRegionId: d.targetRegionId, resumeAs } }, at);
      }
      case 'VmMigrationCompleted': {
        const d = event.data as unknown as Data<'VmMigrationCompleted'>;
        const target = ctx.get<NodeTrack>(keys.node(d.targetNodeId));
        const regionId = vm.migration?.targetRegionId ?? target?.regionId ?? vm.regionId;
        const next: VmTrack = { ...to(vm.migration?.resumeAs ?? 'running'), nodeId: d.targetNodeId, regionId, clusterId: target?.clusterId ?? '', migration: null };
        return transition(event, vmId, vm, next, at);
      }
      case 'VmMigrationFailed':
        return transition(event, vmId, vm, { ...to(vm.migration?.resumeAs ?? 'running'), migration: null }, at);
      case 'VmDeleted':
        return transition(event, vmId, vm, null, at);
      default:
        return; // VmSnapshotTaken: nothing an interval shows
    }
  }

  function applyNode(event: RecordedEvent): void {
    switch (event.type) {
      case 'NodeRegistered': {
        const d = event.data as unknown as Data<'NodeRegistered'>;
        const key = keys.node(d.nodeId);
        const before = ctx.get<NodeTrack>(key) ?? null;
        const node: NodeTrack = { regionId: d.regionId, clusterId: d.clusterId ?? '', ...allocatableOf(d.capacity, d.overcommitRatio), inService: true };
        ctx.set(key, node);
        const moved = before !== null && (before.regionId !== node.regionId || before.clusterId !== node.clusterId);
        if (moved) recount(before, { ...before, inService: false }, event.position);
        // A new region or cluster's series starts in this hour.
        recount(moved ? null : before, node, event.position);
        return;
      }
      case 'NodeCapacityChanged': {
        const d = event.data as unknown as Data<'NodeCapacityChanged'>;
        const key = keys.node(d.nodeId);
        const before = ctx.get<NodeTrack>(key);
        if (!before) return;
        const node = { ...before, ...allocatableOf(d.capacity, d.overcommitRatio) };
        ctx.set(key, node);
        recount(before, node, event.position);
        return;
      }
      case 'NodeFailed':
      case 'NodeDecommissioned': {
        const key = keys.node((event.data as { nodeId: string }).nodeId);
        const before = ctx.get<NodeTrack>(key);
        if (!before || !before.inService) return;
        const node = { ...before, inService: false };
        ctx.set(key, node);
        recount(before, node, event.position);
        return;
      }
      case 'CapacityReserved': {
        const d = event.data as unknown as Data<'CapacityReserved'>;
        ctx.set(keys.reservation(d.nodeId, d.reservationId), { vmId: d.vmId, vcpus: d.resources.vcpus, memoryMiB: d.resources.memoryMiB });
        return;
      }
      case 'CapacityCommitted': {
        // The pending reservation becomes the VM's holding; an unknown or settled one changes nothing.
        const d = event.data as unknown as Data<'CapacityCommitted'>;
        const reservationKey = keys.reservation(d.nodeId, d.reservationId);
        const pending = ctx.get<Amounts & { vmId: string }>(reservationKey);
        const node = ctx.get<NodeTrack>(keys.node(d.nodeId));
        if (!pending || !node) return;
        ctx.set(reservationKey, undefined);
        const holdingKey = keys.holding(d.nodeId, pending.vmId);
        const held = ctx.get<Amounts>(holdingKey) ?? { vcpus: 0, memoryMiB: 0 };
        ctx.set(holdingKey, { vcpus: held.vcpus + pending.vcpus, memoryMiB: held.memoryMiB + pending.memoryMiB });
        changeSeries(node, event.position, (s) => {
          s.allocatedVcpus += pending.vcpus;
          s.allocatedMemoryMiB += pending.memoryMiB;
        });
        return;
      }
      case 'CapacityReleased': {
        // A pending reservation is dropped (nothing was allocated); otherwise the resources leave the VM's holding.
        const d = event.data as unknown as Data<'CapacityReleased'>;
        const reservationKey = keys.reservation(d.nodeId, d.reservationId);
        if (ctx.get(reservationKey)) {
          ctx.set(reservationKey, undefined);
          return;
        }
        const holdingKey = keys.holding(d.nodeId, d.vmId);
        const held = ctx.get<Amounts>(holdingKey);
        const node = ctx.get<NodeTrack>(keys.node(d.nodeId));
        if (!held || !node) return;
        const left = { vcpus: held.vcpus - d.resources.vcpus, memoryMiB: held.memoryMiB - d.resources.memoryMiB };
        ctx.set(holdingKey, left.vcpus === 0 && left.memoryMiB === 0 ? undefined : left);
        changeSeries(node, event.position, (s) => {
          s.allocatedVcpus -= d.resources.vcpus;
          s.allocatedMemoryMiB -= d.resources.memoryMiB;
        });
        return;
      }
      default:
        return;
    }
  }

  for (const event of events) {
    const at = advance(event);
    if (!isModelled(event.type)) continue;
    if (VM_EVENTS.has(event.type)) applyVm(event, at);
    else applyNode(event);
  }
  if (hour !== hourBefore) ctx.set(keys.hour, hour);
  if (seriesChanged) ctx.set(keys.seriesList, series);
}
