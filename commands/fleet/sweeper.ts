/**
 * The reservation sweeper settles what a crashed or stalled saga left behind:
 *
 * - a reservation whose VM never appeared is released once it has expired; the
 *   VM id is first fenced (its stream tombstoned with expected revision
 *   no_stream), so a late saga can no longer record that VM;
 * - a reservation whose VM (or resize, or migration) was recorded is committed;
 * - a deleted VM's quota and capacity are given back; a failed node's VMs are failed.
 *
 * Every action is an ordinary idempotent command, so sweeping twice, or
 * alongside a live saga, changes nothing more.
 */
import type { EventStore, RecordedEvent } from '../../streams/eventstore/index.ts';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { isWrongExpectedRevision, newEventId } from '../../streams/eventstore/index.ts';
import { systemContext, type CommandContext } from '../handling/context.ts';
import { toDomainEvent } from '../handling/handle-command.ts';
import { aggregates, streamOf } from './aggregates.ts';
import { meta, type Runner } from './runner.ts';

interface Pending {
  kind: 'tenant' | 'node';
  ownerId: string;
  reservationId: string;
  vmId: string;
  expiresAt: number;
}

export interface SweepReport {
  committed: number;
  released: number;
  reconciled: number;
}

export interface SweeperOptions {
  store: EventStore;
  runner: Runner;
  /** Extra time after expiry before a reservation is touched, so a saga finishing right now is not raced. */
  graceMs?: number;
  /** How often `start()` sweeps. */
  intervalMs?: number;
  now?: () => Date;
  onError?: (error: unknown) => void;
}

const TYPES = [
  'QuotaReserved', 'QuotaCommitted', 'QuotaReleased',
  'CapacityReserved', 'CapacityCommitted', 'CapacityReleased',
  'VmDeleted', 'NodeFailed',
];

export function createReservationSweeper({ store, runner, graceMs = 2_000, intervalMs = 5_000, now = () => new Date(), onError }: SweeperOptions) {
  const pending = new Map<string, Pending>();
  const deletedVms = new Map<string, { tenantId: string; nodeId: string }>();
  const failedNodes = new Map<string, { nodeId: string; vmIds: string[] }>();
  let position = 0;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<SweepReport> | null = null;

  function track(recorded: RecordedEvent): void {
    const event = toDomainEvent(recorded);
    switch (event.type) {
      case 'QuotaReserved':
      case 'CapacityReserved': {
        const kind = event.type === 'QuotaReserved' ? 'tenant' : 'node';
        const ownerId = event.type === 'QuotaReserved' ? event.data.tenantId : event.data.nodeId;
        pending.set(event.data.reservationId, {
          kind, ownerId, reservationId: event.data.reservationId, vmId: event.data.vmId, expiresAt: Date.parse(event.data.expiresAt),
        });
        break;
      }
      case 'QuotaCommitted':
      case 'QuotaReleased':
      case 'CapacityCommitted':
      case 'CapacityReleased':
        pending.delete(event.data.reservationId);
        break;
      case 'VmDeleted':
        deletedVms.set(event.data.vmId, { tenantId: event.data.tenantId, nodeId: event.data.nodeId });
        break;
      case 'NodeFailed':
        failedNodes.set(`${event.data.nodeId}@${recorded.revision}`, { nodeId: event.data.nodeId, vmIds: event.data.vmIds });
        break;
      default:
        break;
    }
  }

  async function catchUp(): Promise<void> {
    for (;;) {
      const page = await store.readAll({ fromPosition: position + 1, maxCount: 1000, filter: { eventTypes: TYPES } });
      for (const event of page) {
        position = event.position;
        track(event);
      }
      if (page.length < 1000) return;
    }
  }

  /** Whether the VM's stream records this reservation: as its creation, a resize or a finished migration. */
  function recordedBy(vmEvents: RecordedEvent[], reservationId: string): 'recorded' | 'in_flight' | 'absent' {
    const migrations = new Map<string, string>();
    for (const recorded of vmEvents) {
      const event = toDomainEvent(recorded);
      if (event.type === 'VmCreated' && (event.data.quotaReservationId === reservationId || event.data.capacityReservationId === reservationId)) return 'recorded';
      if (event.type === 'VmResized' && (event.data.quotaReservationId === reservationId || event.data.capacityReservationId === reservationId)) return 'recorded';
      if (event.type === 'VmMigrationStarted' && event.data.capacityReservationId === reservationId) migrations.set(event.data.migrationId, 'started');
      if (event.type === 'VmMigrationCompleted' && migrations.has(event.data.migrationId)) return 'recorded';
      if (event.type === 'VmMigrationFailed' && migrations.has(event.data.migrationId)) return 'absent';
      // A VM that failed or was deleted mid-migration never reaches the target.
      if ((event.type === 'VmFailed' || event.type === 'VmDeleted') && migrations.size > 0) return 'absent';
    }
    return migrations.size > 0 ? 'in_flight' : 'absent';
  }

  async function settle(reservation: Pending, context: CommandContext): Promise<'committed' | 'released' | 'left'> {
    const vmStream = streamOf.vm(reservation.vmId);
    let vmEvents: RecordedEvent[] = [];
    try {
      vmEvents = await store.readStream(vmStream);
    } catch (error) {
      if (!isNovaCronError(error, 'NC_STREAM_DELETED')) throw error;
    }
    if (vmEvents.length === 0) {
      try {
        await store.tombstoneStream(vmStream, { expectedRevision: 'no_stream' });
      } catch (error) {
        if (isWrongExpectedRevision(error)) return 'left'; // the VM appeared just now: settle it next sweep
        if (!isNovaCronError(error, 'NC_STREAM_DELETED')) throw error;
      }
    }
    const verdict = vmEvents.length === 0 ? 'absent' : recordedBy(vmEvents, reservation.reservationId);
    if (verdict === 'in_flight') return 'left';
    const commit = verdict === 'recorded';
    if (reservation.kind === 'tenant') {
      await runner.run(aggregates.tenant, streamOf.tenant(reservation.ownerId), commit
        ? { type: 'CommitQuota', data: { tenantId: reservation.ownerId, reservationId: reservation.reservationId }, metadata: meta(context) }
        : { type: 'ReleaseQuota', data: { tenantId: reservation.ownerId, reason: 'expired', reservationId: reservation.reservationId }, metadata: meta(context) },
      context);
    } else {
      await runner.run(aggregates.node, streamOf.node(reservation.ownerId), commit
        ? { type: 'CommitCapacity', data: { nodeId: reservation.ownerId, reservationId: reservation.reservationId }, metadata: meta(context) }
        : { type: 'ReleaseCapacity', data: { nodeId: reservation.ownerId, reason: 'expired', reservationId: reservation.reservationId }, metadata: meta(context) },
      context);
    }
    pending.delete(reservation.reservationId);
    return commit ? 'committed' : 'released';
  }

  async function sweepOnce(): Promise<SweepReport> {
    await catchUp();
    const at = now();
    const context = systemContext('sweeper', at, newEventId());
    const report: SweepReport = { committed: 0, released: 0, reconciled: 0 };
    for (const reservation of [...pending.values()]) {
      if (reservation.expiresAt + graceMs > at.getTime()) continue;
      const outcome = await settle(reservation, context);
      if (outcome === 'committed') report.committed += 1;
      if (outcome === 'released') report.released += 1;
    }
    for (const [vmId, { tenantId, nodeId }] of [...deletedVms]) {
      const [quota, capacity] = await Promise.all([
        runner.run(aggregates.tenant, streamOf.tenant(tenantId), { type: 'ReleaseQuota', data: { tenantId, reason: 'vm_deleted', vmId }, metadata: meta(context) }, context),
        runner.run(aggregates.node, streamOf.node(nodeId), { type: 'ReleaseCapacity', data: { nodeId, reason: 'vm_deleted', vmId }, metadata: meta(context) }, context),
      ]);
      report.reconciled += quota.events.length + capacity.events.length;
      deletedVms.delete(vmId);
    }
    for (const [key, { nodeId, vmIds }] of [...failedNodes]) {
      for (const vmId of vmIds) {
        const outcome = await runner.run(aggregates.vm, streamOf.vm(vmId), {
          type: 'FailVm', data: { vmId, reason: `node ${nodeId} failed` }, metadata: meta(context),
        }, context).catch((error: unknown) => {
          if (isNovaCronError(error, 'NC_INVALID_STATE') || isNovaCronError(error, 'NC_NOT_FOUND')) return { events: [] };
          throw error;
        });
        report.reconciled += outcome.events.length;
      }
      failedNodes.delete(key);
    }
    return report;
  }

  return {
    /** One pass; concurrent callers share it. */
    sweep(): Promise<SweepReport> {
      running ??= sweepOnce().finally(() => {
        running = null;
      });
      return running;
    },
    /** Reservations the sweeper knows to be pending. */
    pendingCount: () => pending.size,
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        this.sweep().catch((error: unknown) => onError?.(error));
      }, intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}

export type ReservationSweeper = ReturnType<typeof createReservationSweeper>;
