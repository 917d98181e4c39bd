import type Database from 'better-sqlite3';
import type { QuotaAmounts } from './types.ts';

/**
 * The reservation ledger of a tenant (quota) or a node (capacity), in SQL: the
 * same rules as commands/shared/ledger.ts (foldReserved, foldCommitted,
 * foldReleased). Each operation returns how the owner's totals move, so the
 * owner's row keeps `usage = Σ held` and `reserved = Σ pending` without
 * summing. Nodes have no `vms` dimension: they pass 0.
 */
export interface LedgerDelta {
  used: QuotaAmounts;
  reserved: QuotaAmounts;
  /** Change in the number of pending reservations. */
  reservations: number;
}

interface AmountColumns {
  vms: number;
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
}
interface PendingRow extends AmountColumns {
  owner: string;
  reservation_id: string;
  vm_id: string;
  expires_at: string;
}
interface HeldRow extends AmountColumns {
  owner: string;
  vm_id: string;
  reservation_id: string;
}

const ZERO: QuotaAmounts = { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 };
const amountsOf = (r: AmountColumns): QuotaAmounts => ({ vms: r.vms, vcpus: r.vcpus, memoryMiB: r.memory_mib, diskGiB: r.disk_gib });
const columnsOf = (a: QuotaAmounts): AmountColumns => ({ vms: a.vms, vcpus: a.vcpus, memory_mib: a.memoryMiB, disk_gib: a.diskGiB });
const plus = (a: QuotaAmounts, b: QuotaAmounts): QuotaAmounts => ({
  vms: a.vms + b.vms,
  vcpus: a.vcpus + b.vcpus,
  memoryMiB: a.memoryMiB + b.memoryMiB,
  diskGiB: a.diskGiB + b.diskGiB,
});
const minus = (a: QuotaAmounts, b: QuotaAmounts): QuotaAmounts => ({
  vms: a.vms - b.vms,
  vcpus: a.vcpus - b.vcpus,
  memoryMiB: a.memoryMiB - b.memoryMiB,
  diskGiB: a.diskGiB - b.diskGiB,
});
const isZero = (a: QuotaAmounts) => a.vms === 0 && a.vcpus === 0 && a.memoryMiB === 0 && a.diskGiB === 0;
const NO_CHANGE: LedgerDelta = { used: ZERO, reserved: ZERO, reservations: 0 };

export function createLedger(db: Database.Database) {
  const getPending = db.prepare<[string, string], PendingRow>('SELECT * FROM inv_ledger_pending WHERE owner = ? AND reservation_id = ?');
  const putPending = db.prepare<[PendingRow]>(`
    INSERT INTO inv_ledger_pending (owner, reservation_id, vm_id, vms, vcpus, memory_mib, disk_gib, expires_at)
    VALUES (@owner, @reservation_id, @vm_id, @vms, @vcpus, @memory_mib, @disk_gib, @expires_at)
    ON CONFLICT (owner, reservation_id) DO UPDATE SET vm_id = excluded.vm_id, vms = excluded.vms, vcpus = excluded.vcpus,
      memory_mib = excluded.memory_mib, disk_gib = excluded.disk_gib, expires_at = excluded.expires_at`);
  const dropPending = db.prepare<[string, string]>('DELETE FROM inv_ledger_pending WHERE owner = ? AND reservation_id = ?');
  const getHeld = db.prepare<[string, string], HeldRow>('SELECT * FROM inv_ledger_held WHERE owner = ? AND vm_id = ?');
  const putHeld = db.prepare<[HeldRow]>(`
    INSERT INTO inv_ledger_held (owner, vm_id, reservation_id, vms, vcpus, memory_mib, disk_gib)
    VALUES (@owner, @vm_id, @reservation_id, @vms, @vcpus, @memory_mib, @disk_gib)
    ON CONFLICT (owner, vm_id) DO UPDATE SET reservation_id = excluded.reservation_id, vms = excluded.vms, vcpus = excluded.vcpus,
      memory_mib = excluded.memory_mib, disk_gib = excluded.disk_gib`);
  const dropHeld = db.prepare<[string, string]>('DELETE FROM inv_ledger_held WHERE owner = ? AND vm_id = ?');
  const clearPending = db.prepare<[string]>('DELETE FROM inv_ledger_pending WHERE owner = ?');
  const clearHeld = db.prepare<[string]>('DELETE FROM inv_ledger_held WHERE owner = ?');

  return {
    /** A pending reservation (replacing one with the same id). */
    reserve(owner: string, reservationId: string, vmId: string, amounts: QuotaAmounts, expiresAt: string): LedgerDelta {
      const existing = getPending.get(owner, reservationId);
      putPending.run({ owner, reservation_id: reservationId, vm_id: vmId, expires_at: expiresAt, ...columnsOf(amounts) });
      return { used: ZERO, reserved: minus(amounts, existing ? amountsOf(existing) : ZERO), reservations: existing ? 0 : 1 };
    },
    /** A pending reservation becomes part of what its VM holds; unknown ids change nothing. */
    commit(owner: string, reservationId: string): LedgerDelta {
      const pending = getPending.get(owner, reservationId);
      if (!pending) return NO_CHANGE;
      const amounts = amountsOf(pending);
      dropPending.run(owner, reservationId);
      const held = getHeld.get(owner, pending.vm_id);
      putHeld.run({
        owner,
        vm_id: pending.vm_id,
        reservation_id: held ? held.reservation_id : reservationId,
        ...columnsOf(held ? plus(amountsOf(held), amounts) : amounts),
      });
      return { used: amounts, reserved: minus(ZERO, amounts), reservations: -1 };
    },
    /** Drops a pending reservation, or takes `amounts` off what the VM holds; anything else changes nothing. */
    release(owner: string, reservationId: string, vmId: string, amounts: QuotaAmounts): LedgerDelta {
      const pending = getPending.get(owner, reservationId);
      if (pending) {
        dropPending.run(owner, reservationId);
        return { used: ZERO, reserved: minus(ZERO, amountsOf(pending)), reservations: -1 };
      }
      const held = getHeld.get(owner, vmId);
      if (!held) return NO_CHANGE;
      const left = minus(amountsOf(held), amounts);
      if (isZero(left)) dropHeld.run(owner, vmId);
      else putHeld.run({ owner, vm_id: vmId, reservation_id: held.reservation_id, ...columnsOf(left) });
      return { used: minus(ZERO, amounts), reserved: ZERO, reservations: 0 };
    },
    /** Forgets an owner's ledger (its stream started over). */
    clear(owner: string): void {
      clearPending.run(owner);
      clearHeld.run(owner);
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;

/** `totals` moved by `delta`. */
export const moved = (totals: QuotaAmounts, delta: QuotaAmounts): QuotaAmounts => plus(totals, delta);
