/**
 * The reservation ledger a tenant (quota) and a node (capacity) both keep:
 * pending reservations by id, committed resources per VM, and their total.
 * The fold helpers are for `evolve`; the `*Release` helpers compute what a
 * release gives back, or null when there is nothing (an idempotent no-op).
 */
import { lookup, withEntry, withoutEntry } from './records.ts';
import { add, isZero, sameAmounts, subtract, sum, type Amounts } from './resources.ts';

export interface PendingReservation<D extends string> {
  vmId: string;
  resources: Amounts<D>;
  /** ISO-8601; the sweeper releases the reservation after it. It counts until it is released. */
  expiresAt: string;
}

export interface Holding<D extends string> {
  /** The reservation that first committed resources for this VM (reported when they are released). */
  reservationId: string;
  resources: Amounts<D>;
}

export interface Ledger<D extends string> {
  /** Pending reservations by reservation id. */
  reservations: Record<string, PendingReservation<D>>;
  /** Committed resources by VM id. */
  committed: Record<string, Holding<D>>;
  /** Sum of `committed`. */
  used: Amounts<D>;
}

export interface Release<D extends string> {
  reservationId: string;
  vmId: string;
  resources: Amounts<D>;
}

export const reservedTotal = <D extends string>(dims: readonly D[], ledger: Pick<Ledger<D>, 'reservations'>): Amounts<D> =>
  sum(dims, Object.values(ledger.reservations).map((r) => r.resources));

export const isEmpty = <D extends string>(ledger: Ledger<D>): boolean =>
  Object.keys(ledger.reservations).length === 0 && Object.keys(ledger.committed).length === 0;

/** Whether `reservationId` is already in the ledger, pending as the same request (`same`) or otherwise (`conflict`). */
export function reservationClash<D extends string>(
  dims: readonly D[],
  ledger: Ledger<D>,
  reservationId: string,
  request: PendingReservation<D>,
): 'same' | 'conflict' | null {
  const pending = lookup(ledger.reservations, reservationId);
  if (pending) {
    const same = pending.vmId === request.vmId && pending.expiresAt === request.expiresAt && sameAmounts(dims, pending.resources, request.resources);
    return same ? 'same' : 'conflict';
  }
  return Object.values(ledger.committed).some((h) => h.reservationId === reservationId) ? 'conflict' : null;
}

// ── fold (evolve) ───────────────────────────────────────────────────────────

export const foldReserved = <D extends string>(ledger: Ledger<D>, reservationId: string, reservation: PendingReservation<D>): Ledger<D> => ({
  ...ledger,
  reservations: withEntry(ledger.reservations, reservationId, reservation),
});

export function foldCommitted<D extends string>(dims: readonly D[], ledger: Ledger<D>, reservationId: string): Ledger<D> {
  const pending = lookup(ledger.reservations, reservationId);
  if (!pending) return ledger;
  const held = lookup(ledger.committed, pending.vmId);
  const holding = held ? { ...held, resources: add(dims, held.resources, pending.resources) } : { reservationId, resources: pending.resources };
  return {
    reservations: withoutEntry(ledger.reservations, reservationId),
    committed: withEntry(ledger.committed, pending.vmId, holding),
    used: add(dims, ledger.used, pending.resources),
  };
}

/** A pending reservation is dropped; otherwise the resources are taken off the VM's committed holding. */
export function foldReleased<D extends string>(dims: readonly D[], ledger: Ledger<D>, release: Release<D>): Ledger<D> {
  if (lookup(ledger.reservations, release.reservationId)) {
    return { ...ledger, reservations: withoutEntry(ledger.reservations, release.reservationId) };
  }
  const held = lookup(ledger.committed, release.vmId);
  if (!held) return ledger;
  const left = subtract(dims, held.resources, release.resources);
  return {
    ...ledger,
    committed: isZero(dims, left) ? withoutEntry(ledger.committed, release.vmId) : withEntry(ledger.committed, release.vmId, { ...held, resources: left }),
    used: subtract(dims, ledger.used, release.resources),
  };
}

// ── decide ──────────────────────────────────────────────────────────────────

/** Drops a pending reservation; null when it is unknown or already settled. */
export function pendingRelease<D extends string>(ledger: Ledger<D>, reservationId: string): Release<D> | null {
  const pending = lookup(ledger.reservations, reservationId);
  return pending ? { reservationId, vmId: pending.vmId, resources: pending.resources } : null;
}

/** Gives back everything a VM holds; null when it holds nothing. */
export function holdingRelease<D extends string>(ledger: Ledger<D>, vmId: string): Release<D> | null {
  const held = lookup(ledger.committed, vmId);
  return held ? { reservationId: held.reservationId, vmId, resources: held.resources } : null;
}

/** Gives back what a VM holds beyond `keep` (after a resize); null when it holds no more than that. */
export function trimRelease<D extends string>(dims: readonly D[], ledger: Ledger<D>, vmId: string, keep: Amounts<D>): Release<D> | null {
  const held = lookup(ledger.committed, vmId);
  if (!held) return null;
  const excess = Object.fromEntries(dims.map((d) => [d, Math.max(0, held.resources[d] - keep[d])])) as Amounts<D>;
  return isZero(dims, excess) ? null : { reservationId: held.reservationId, vmId, resources: excess };
}
