import { createRing, type Ring } from './model/index.ts';

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
 * Rings kept in memory, per region: building one is ~25 ms (100 shards × 1000
 * virtual nodes; ~6 s at 10,000 shards), a lookup on a built one ~1 µs. A ring
 * is a pure function of its parameters, so the cache is keyed by them: a
 * rolled-back transaction, a restart or a replay generation running beside the
 * serving one can never see a ring of the wrong shape. Each region keeps its
 * last `perRegion` rings (2: the old and the new ring of a shard change, or the
 * serving and the replaying generation when they stand at different shard
 * counts). A new shard count is built from a kept ring of the region (the ring
 * of fewer shards is the start of the ring of more), so a shard change
 * allocates only the shards added (~10 ms from 100 to 101 shards, ~1 s from
 * 10,000 to 10,001), or just drops the shards removed.
 */
export function createRingCache({ perRegion = 2 }: { perRegion?: number } = {}) {
  if (!Number.isInteger(perRegion) || perRegion < 1) throw new TypeError('createRingCache: perRegion must be a positive integer');
  const rings = new Map<string, Ring[]>();
  let builds = 0;
  return {
    /** The region's ring for these parameters, built on the first ask. */
    ring(params: RingParams): Ring {
      const kept = rings.get(params.regionId) ?? [];
      const found = kept.find((ring) => sameParams(ring, params));
      if (found) {
        if (kept[0] !== found) rings.set(params.regionId, [found, ...kept.filter((r) => r !== found)]);
        return found;
      }
      const built = createRing(params, closest(kept, params));
      builds++;
      rings.set(params.regionId, [built, ...kept].slice(0, perRegion));
      return built;
    },
    /** Rings built since the cache was made (for tests and metrics). */
    get builds(): number {
      return builds;
    },
  };
}

export type RingCache = ReturnType<typeof createRingCache>;
