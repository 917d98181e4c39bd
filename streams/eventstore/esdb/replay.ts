/**
 * Idempotent retries, decided on the client. ESDB recognises a retried append
 * by its event ids: for an expected revision (or `no_stream`) below the
 * stream's, exactly, from its index; for `any` and `exists` only from a
 * bounded in-memory cache (best effort, lost on restart), and a retry whose
 * ids are in another order or mixed with new ones may then be stored again.
 * So before an `any` or `exists` append, the adapter reads the tail of the
 * stream and looks for the append's ids there.
 */

/** An event of the stream, as far as idempotency cares. */
export interface StoredRef {
  eventId: string;
  revision: number;
  position: number;
}

export type Located =
  /** None of the ids is in the tail: append. */
  | { kind: 'new' }
  /** All of them, in order, at consecutive revisions: the original result. */
  | { kind: 'replay'; revision: number; position: number }
  /** Some are stored, but not as this append: refuse. */
  | { kind: 'mismatch'; eventId: string }
  /** Some are stored in the tail and the rest may be just before it: read the block from `fromRevision` and decide on it. */
  | { kind: 'reread'; fromRevision: number };

/** `ids` lower-cased, in append order; `stored` any slice of the stream. */
export function locateReplay(stored: readonly StoredRef[], ids: readonly string[], { final = false }: { final?: boolean } = {}): Located {
  const byId = new Map(stored.map((ref) => [ref.eventId.toLowerCase(), ref]));
  const firstIndex = ids.findIndex((id) => byId.has(id));
  if (firstIndex < 0) return { kind: 'new' };
  const first = byId.get(ids[firstIndex] as string) as StoredRef;
  const start = first.revision - firstIndex;
  if (start < 0) return { kind: 'mismatch', eventId: ids[firstIndex] as string };
  const lowest = stored.reduce((min, ref) => Math.min(min, ref.revision), Number.POSITIVE_INFINITY);
  if (!final && start < lowest) return { kind: 'reread', fromRevision: start };
  let last = first;
  for (let i = 0; i < ids.length; i++) {
    const ref = byId.get(ids[i] as string);
    if (!ref || ref.revision !== start + i) return { kind: 'mismatch', eventId: ids[i] as string };
    last = ref;
  }
  return { kind: 'replay', revision: last.revision, position: last.position };
}
