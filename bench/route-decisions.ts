/**
 * npx tsx bench/route-decisions.ts — routing decisions/s of the pure routing
 * model: 20 candidate regions (all allowed, healthy, with headroom), 10,000
 * client locations spread over the globe, each strategy in turn, then the
 * latency and hybrid strategies with a full region × region latency matrix.
 * The last line printed is a JSON object of the figures.
 *
 * Options (environment): BENCH_SECONDS (per measurement, default 2).
 */
import { loadavg } from 'node:os';
import { routeRegions, type LatencyMatrix, type RouteOptions, type RoutingRegion } from '../projections/routing/model/index.ts';
import { ROUTING_STRATEGIES } from '../projections/routing/model/types.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);

/** Deterministic PRNG (mulberry32) so every run routes the same clients. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const random = mulberry32(42);

const sites: [string, number, number][] = [
  ['us-east-1', 38.95, -77.45], ['us-east-2', 40.0, -83.0], ['us-west-1', 37.35, -121.96], ['us-west-2', 45.6, -121.2],
  ['ca-central-1', 45.5, -73.6], ['sa-east-1', -23.55, -46.63], ['eu-west-1', 53.35, -6.26], ['eu-west-2', 51.51, -0.13],
  ['eu-west-3', 48.86, 2.35], ['eu-central-1', 50.11, 8.68], ['eu-north-1', 59.33, 18.07], ['eu-south-1', 45.46, 9.19],
  ['me-south-1', 26.07, 50.56], ['af-south-1', -33.92, 18.42], ['ap-south-1', 19.08, 72.88], ['ap-southeast-1', 1.35, 103.82],
  ['ap-southeast-2', -33.87, 151.21], ['ap-northeast-1', 35.68, 139.65], ['ap-northeast-2', 37.57, 126.98], ['ap-east-1', 22.32, 114.17],
];
const regions: RoutingRegion[] = sites.map(([regionId, lat, lon]) => ({
  regionId,
  lat,
  lon,
  costPerVcpuHour: 0.03 + random() * 0.04,
  retired: false,
  healthyClusters: 1 + Math.floor(random() * 4),
  capacityVcpus: 100_000,
  allocatedVcpus: Math.floor(random() * 90_000),
}));
const tenant = { allowedRegions: regions.map((r) => r.regionId) };
const clients = Array.from({ length: 10_000 }, () => ({ lat: Math.asin(2 * random() - 1) * (180 / Math.PI), lon: random() * 360 - 180 }));
const latencyMatrix: LatencyMatrix = Object.fromEntries(
  regions.map((a) => [a.regionId, Object.fromEntries(regions.filter((b) => b !== a).map((b) => [b.regionId, 2 + random() * 250]))]),
);

function rate(options: RouteOptions): number {
  let sink = 0;
  const pass = () => {
    for (const client of clients) sink += routeRegions(regions, tenant, client, options).length;
  };
  pass(); // warm up
  let decisions = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    pass();
    decisions += clients.length;
  }
  if (sink !== (decisions + clients.length) * regions.length) throw new Error('a route lost regions');
  return decisions / ((performance.now() - start) / 1000);
}

const perStrategy: Record<string, number> = {};
for (const strategy of ROUTING_STRATEGIES) perStrategy[strategy] = Math.round(rate({ strategy }));
perStrategy['latency+matrix'] = Math.round(rate({ strategy: 'latency', latencyMatrix }));
perStrategy['hybrid+matrix'] = Math.round(rate({ strategy: 'hybrid', latencyMatrix }));

for (const [name, perSec] of Object.entries(perStrategy)) console.log(`${name.padEnd(16)} ${perSec.toLocaleString('en').padStart(10)} decisions/s`);
console.log(
  JSON.stringify({
    candidates: regions.length,
    /** 1-minute load average when done: figures from a busy 2-core machine run low. */
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
    minDecisionsPerSec: Math.min(...Object.values(perStrategy)),
    decisionsPerSec: perStrategy,
  }),
);
