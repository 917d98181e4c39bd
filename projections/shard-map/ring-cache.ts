import { createRing, ringFromParts, ringPoints, type Ring } from './model/index.ts';
import { sharedRingBuilder, type RingBuilder } from './ring-builder.ts';

/** What a region's ring is built from; the ring is a pure function of these. */
export interface RingParams {
  readonly regionId: string;
  readonly shards: number;
  readonly virtualNodes: number;
  readonly replicationFactor: number;
}

const sameParams = (ring: Ring, p: RingParams) =>
  ring.shards === p.shards && ring.virtualNodes === p.virtualNodes && ring.replicationFactor === p.replicationFactor;

/** The kept ring that is quickest to build `p` from: the fewest shards at or above p's, else the most below. */
function closest(kept: readonly Ring[], p: RingParams): Ring | undefined {
  let best: Ring | undefined;
  for (const ring of kept) {
    if (ring.virtualNodes !== p.virtualNodes) continue;
    const better =
      !best || (ring.shards >= p.shards ? best.shards < p.shards || ring.shards < best.shards : best.shards < p.shards && ring.shards > best.shards);
    if (better) best = ring;
  }
  return best;
}

/**
 * Rings kept in memory, per region: building one is ~90 ms (100 shards × 1000
 * virtual nodes; ~0.8 s at the 1000-shard maximum, ~6 s at 10,000), a lookup
 * on a built one ~1 µs. A ring is a pure function of its parameters, so the
 * cache is keyed by them: a rolled-back transaction, a restart or a replay
 * generation running beside the serving one can never see a ring of the wrong
 * shape. Each region keeps its last `perRegion` rings (2: the old and the new
 * ring of a shard change, or the serving and the replaying generation when
 * they stand at different shard counts). A new shard count is built from a
 * kept ring of the region (the ring of fewer shards is the start of the ring
 * of more), so a shard change allocates only the shards added (~30 ms from
 * 100 to 101 shards, ~1 s from 10,000 to 10,001), or just drops the shards
 * removed.
 *
 * Builds belong in `prepare`, which builds in the `builder`'s worker thread,
 * off the event loop; `ring` answers a prepared ring at once and builds on the
 * calling thread only when asked for one nobody prepared (counted in
 * `loopBuilds`).
 */
export function createRingCache({ perRegion = 2, builder = sharedRingBuilder() }: { perRegion?: number; builder?: RingBuilder } = {}) {
  if (!Number.isInteger(perRegion) || perRegion < 1) throw new TypeError('createRingCache: perRegion must be a positive integer');
  const rings = new Map<string, Ring[]>();
  const building = new Map<string, Promise<void>>();
  let builds = 0;
  let loopBuilds = 0;

  /** The kept ring of these parameters, made the region's most recent. */
  function kept(params: RingParams): Ring | undefined {
    const all = rings.get(params.regionId) ?? [];
    const found = all.find((ring) => sameParams(ring, params));
    if (found && all[0] !== found) rings.set(params.regionId, [found, ...all.filter((r) => r !== found)]);
    return found;
  }

  function keep(ring: Ring): void {
    rings.set(ring.regionId, [ring, ...(rings.get(ring.regionId) ?? [])].slice(0, perRegion));
    builds++;
  }

  return {
    /** The region's ring for these parameters; built here, on the calling thread, only when not prepared. */
    ring(params: RingParams): Ring {
      const found = kept(params);
      if (found) return found;
      const built = createRing(params, closest(rings.get(params.regionId) ?? [], params));
      loopBuilds++;
      keep(built);
      return built;
    },
    /**
     * Makes `ring(params)` answer at once: builds the ring in the worker thread
     * (from the closest kept ring of the region) unless it is kept. Concurrent
     * asks for the same parameters share one build.
     */
    prepare(params: RingParams): Promise<void> {
      if (kept(params)) return Promise.resolve();
      const key = JSON.stringify([params.regionId, params.shards, params.virtualNodes, params.replicationFactor]);
      const inFlight = building.get(key);
      if (inFlight) return inFlight;
      const from = closest(rings.get(params.regionId) ?? [], params);
      const base = from && { regionId: from.regionId, shards: from.shards, virtualNodes: from.virtualNodes, points: ringPoints(from) };
      const options = { regionId: params.regionId, shards: params.shards, virtualNodes: params.virtualNodes, replicationFactor: params.replicationFactor };
      const done = builder
        .build(options, base)
        .then((parts) => {
          // A ring(params) on the calling thread may have built it meanwhile.
          if (!kept(params)) keep(ringFromParts(options, parts));
        })
        .finally(() => building.delete(key));
      building.set(key, done);
      return done;
    },
    /** Rings built since the cache was made, in the worker or not (for tests and metrics). */
    get builds(): number {
      return builds;
    },
    /** Of those, the rings built on the calling thread because nobody prepared them. */
    get loopBuilds(): number {
      return loopBuilds;
    },
  };
}

export type RingCache = ReturnType<typeof createRingCache>;
