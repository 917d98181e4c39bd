import type Database from 'better-sqlite3';
import type { QuotaAmounts } from './types.ts';

/**
 * The reservation ledger of a tenant (quota) or a node (capacity): the same
 * rules as commands/shared/ledger.ts (foldReserved, foldCommitted,
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

/** A pending reservation of an owner, by reservation id. */
export interface PendingEntry {
  vmId: string;
  amounts: QuotaAmounts;
  expiresAt: string;
}

/** What a VM holds of an owner, by VM id: the reservation that first committed it, and the amounts. */
export interface HeldEntry {
  reservationId: string;
  amounts: QuotaAmounts;
}

/** Where the ledger's entries live: SQL tables (sqlLedgerRows), or a batch's write-behind cache over them. */
export interface LedgerRows {
  pending(owner: string, reservationId: string): PendingEntry | null;
  putPending(owner: string, reservationId: string, entry: PendingEntry): void;
  dropPending(owner: string, reservationId: string): void;
  held(owner: string, vmId: string): HeldEntry | null;
  putHeld(owner: string, vmId: string, entry: HeldEntry): void;
  dropHeld(owner: string, vmId: string): void;
  /** Forgets every entry of `owner`. */
  clear(owner: string): void;
}

const ZERO: QuotaAmounts = { vms: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 };
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

export function createLedger(rows: LedgerRows) {
  return {
    /** A pending reservation (replacing one with the same id). */
    reserve(owner: string, reservationId: string, vmId: string, amounts: QuotaAmounts, expiresAt: string): LedgerDelta {
      const existing = rows.pending(owner, reservationId);
      rows.putPending(owner, reservationId, { vmId, amounts, expiresAt });
      return { used: ZERO, reserved: minus(amounts, existing ? existing.amounts : ZERO), reservations: existing ? 0 : 1 };
    },
    /** A pending reservation becomes part of what its VM holds; unknown ids change nothing. */
    commit(owner: string, reservationId: string): LedgerDelta {
      const pending = rows.pending(owner, reservationId);
      if (!pending) return NO_CHANGE;
      const { amounts } = pending;
      rows.dropPending(owner, reservationId);
      const held = rows.held(owner, pending.vmId);
      rows.putHeld(owner, pending.vmId, {
        reservationId: held ? held.reservationId : reservationId,
        amounts: held ? plus(held.amounts, amounts) : amounts,
      });
      return { used: amounts, reserved: minus(ZERO, amounts), reservations: -1 };
    },
    /** Drops a pending reservation, or takes `amounts` off what the VM holds; anything else changes nothing. */
    release(owner: string, reservationId: string, vmId: string, amounts: QuotaAmounts): LedgerDelta {
      const pending = rows.pending(owner, reservationId);
      if (pending) {
        rows.dropPending(owner, reservationId);
        return { used: ZERO, reserved: minus(ZERO, pending.amounts), reservations: -1 };
      }
      const held = rows.held(owner, vmId);
      if (!held) return NO_CHANGE;
      const left = minus(held.amounts, amounts);
      if (isZero(left)) rows.dropHeld(owner, vmId);
      else rows.putHeld(owner, vmId, { reservationId: held.reservationId, amounts: left });
      return { used: minus(ZERO, amounts), reserved: ZERO, reservations: 0 };
    },
    /** Forgets an owner's ledger (its stream started over). */
    clear(owner: string): void {
      rows.clear(owner);
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;

/** `totals` moved by `delta`. */
export const moved = (totals: QuotaAmounts, delta: QuotaAmounts): QuotaAmounts => plus(totals, delta);

/** The ledger's tables (inv_ledger_pending, inv_ledger_held), one statement per call. */
export function sqlLedgerRows(db: Database.Database): LedgerRows {
  type Amounts = [vms: number, vcpus: number, memoryMiB: number, diskGiB: number];
  const getPending = db
    .prepare<[string, string], [string, ...Amounts, string]>(
      'SELECT vm_id, vms, vcpus, memory_mib, disk_gib, expires_at FROM inv_ledger_pending WHERE owner = ? AND reservation_id = ?',
    )
    .raw();
  const putPending = db.prepare<[string, string, string, ...Amounts, string]>(`
    INSERT INTO inv_ledger_pending (owner, reservation_id, vm_id, vms, vcpus, memory_mib, disk_gib, expires_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (owner, reservation_id) DO UPDATE SET vm_id = excluded.vm_id, vms = excluded.vms, vcpus = excluded.vcpus,
      memory_mib = excluded.memory_mib, disk_gib = excluded.disk_gib, expires_at = excluded.expires_at`);
  const dropPending = db.prepare<[string, string]>('DELETE FROM inv_ledger_pending WHERE owner = ? AND reservation_id = ?');
  const getHeld = db
    .prepare<[string, string], [string, ...Amounts]>('SELECT reservation_id, vms, vcpus, memory_mib, disk_gib FROM inv_ledger_held WHERE owner = ? AND vm_id = ?')
    .raw();
  const putHeld = db.prepare<[string, string, string, ...Amounts]>(`
    INSERT INTO inv_ledger_held (owner, vm_id, reservation_id, vms, vcpus, memory_mib, disk_gib)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (owner, vm_id) DO UPDATE SET reservation_id = excluded.reservation_id, vms = excluded.vms, vcpus = excluded.vcpus,
      memory_mib = excluded.memory_mib, disk_gib = excluded.disk_gib`);
  const dropHeld = db.prepare<[string, string]>('DELETE FROM inv_ledger_held WHERE owner = ? AND vm_id = ?');
  const clearPending = db.prepare<[string]>('DELETE FROM inv_ledger_pending WHERE owner = ?');
  const clearHeld = db.prepare<[string]>('DELETE FROM inv_ledger_held WHERE owner = ?');

  return {
    pending(owner, reservationId) {
      const r = getPending.get(owner, reservationId);
      return r ? { vmId: r[0], amounts: { vms: r[1], vcpus: r[2], memoryMiB: r[3], diskGiB: r[4] }, expiresAt: r[5] } : null;
    },
    putPending(owner, reservationId, { vmId, amounts: a, expiresAt }) {
      putPending.run(owner, reservationId, vmId, a.vms, a.vcpus, a.memoryMiB, a.diskGiB, expiresAt);
    },
    dropPending(owner, reservationId) {
      dropPending.run(owner, reservationId);
    },
    held(owner, vmId) {
      const r = getHeld.get(owner, vmId);
      return r ? { reservationId: r[0], amounts: { vms: r[1], vcpus: r[2], memoryMiB: r[3], diskGiB: r[4] } } : null;
    },
    putHeld(owner, vmId, { reservationId, amounts: a }) {
      putHeld.run(owner, vmId, reservationId, a.vms, a.vcpus, a.memoryMiB, a.diskGiB);
    },
    dropHeld(owner, vmId) {
      dropHeld.run(owner, vmId);
    },
    clear(owner) {
      clearPending.run(owner);
      clearHeld.run(owner);
    },
  };
}
