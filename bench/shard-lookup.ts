/**
 * npx tsx bench/shard-lookup.ts — shard-map lookups/s on one region ring of 100
 * shards × 1000 virtual nodes (100,000 points): `lookup` (shard + 2 replicas)
 * and `shardOf` (shard only), over 1M distinct precomputed keys `vm-<i>` so key
 * building is not measured. Also the ring's build time, the time to build the
 * 101-shard ring from the 100-shard one (as the ring cache does on a shard
 * change), and the exact rebalance plan time for 100 → 101 shards. The last
 * line printed is a JSON object of the figures.
 *
 * Options (environment): BENCH_SECONDS (per measurement, default 3);
 * BENCH_BUILD_SHARDS (say 10000: also time building a ring of that many shards
 * from nothing, and the ring of one more shard from it).
 */
import { loadavg } from 'node:os';
import { createRing, rebalancePlan, shardLoad } from '../projections/shard-map/model/index.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const keys = Array.from({ length: 1_000_000 }, (_, i) => `vm-${i}`);

let started = performance.now();
const ring = createRing({ regionId: 'eu-west-1', shards: 100, virtualNodes: 1000 });
const buildMs = performance.now() - started;

/** Runs `pass` over all keys until `seconds` have gone; returns operations/s. */
function rate(pass: () => number): number {
  pass(); // warm up
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    sink += pass();
    ops += keys.length;
  }
  if (sink === -1) console.log(sink); // keep the work observable
  return ops / ((performance.now() - start) / 1000);
}

const lookupsPerSec = rate(() => {
  let s = 0;
  for (const key of keys) s += ring.lookup(key).replicas[1]!;
  return s;
});
const shardOfPerSec = rate(() => {
  let s = 0;
  for (const key of keys) s += ring.shardOf(key);
  return s;
});

started = performance.now();
createRing({ regionId: 'eu-west-1', shards: 101 }, ring);
const deriveMs = performance.now() - started;

started = performance.now();
const plan = rebalancePlan(ring, createRing({ regionId: 'eu-west-1', shards: 101 }));
const planMs = performance.now() - started;
const load = shardLoad(ring);

const bigShards = Number(process.env.BENCH_BUILD_SHARDS ?? 0);
let big: { shards: number; buildMs: number; deriveMs: number } | undefined;
if (bigShards > 0) {
  started = performance.now();
  const bigRing = createRing({ regionId: 'eu-west-1', shards: bigShards, virtualNodes: 1000 });
  const bigBuildMs = performance.now() - started;
  started = performance.now();
  createRing({ regionId: 'eu-west-1', shards: bigShards + 1, virtualNodes: 1000 }, bigRing);
  big = { shards: bigShards, buildMs: Math.round(bigBuildMs), deriveMs: Math.round(performance.now() - started) };
}

console.log(`lookup: ${Math.round(lookupsPerSec).toLocaleString('en')}/s   shardOf: ${Math.round(shardOfPerSec).toLocaleString('en')}/s`);
console.log(
  `build: ${buildMs.toFixed(0)} ms   101 shards from the 100-shard ring: ${deriveMs.toFixed(0)} ms   rebalance plan 100→101 (incl. building the new ring): ${planMs.toFixed(0)} ms`,
);
if (big) console.log(`build ${big.shards} shards: ${big.buildMs} ms   ${big.shards + 1} from it: ${big.deriveMs} ms`);
console.log(
  JSON.stringify({
    shards: 100,
    /** 1-minute load average when done: figures from a busy 2-core machine run low. */
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
    virtualNodes: 1000,
    lookupsPerSec: Math.round(lookupsPerSec),
    shardOfPerSec: Math.round(shardOfPerSec),
    buildMs: Math.round(buildMs),
    deriveMs: Math.round(deriveMs),
    planMs: Math.round(planMs),
    maxOverMeanLoad: Number((Math.max(...load) * 100).toFixed(4)),
    movedFraction100to101: Number(plan.movedFraction.toFixed(6)),
    ...(big ? { large: big } : {}),
  }),
);
