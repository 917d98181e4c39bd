/**
 * A region at the largest shard count must not stall the server: its ring
 * (1000 shards × 1000 virtual nodes) takes most of a second to build, which
 * happens in the ring cache's worker thread, never on the event loop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { REGION_SHARDS } from '../../commands/region/decider.ts';
import { createRing } from '../../projections/shard-map/model/index.ts';
import { SHARD_MAP } from '../../projections/shard-map/index.ts';
import { fleetApp, type FleetApp } from '../testing/fleet-app.ts';

let f: FleetApp | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** The longest the event loop went without running a 1 ms interval, from now until `stop()`. */
function watchEventLoop(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(tick);
      return Math.max(longest, performance.now() - last);
    },
  };
}

describe('a region with the most shards', () => {
  it('is created, resharded and looked up through the API without stalling the event loop for the ring builds', async () => {
    const shards = REGION_SHARDS.max;
    // The reference: building that ring in one piece, on this thread, on this machine, now.
    const began = performance.now();
    createRing({ regionId: 'reference', shards });
    const singlePiece = performance.now() - began;

    f = await fleetApp();
    const applied = async (position: number) => expect(await f!.platform.projections.waitFor(SHARD_MAP, position, 30_000)).toBe(true);
    const lookup = () => f!.app.inject({ method: 'GET', url: '/v1/shards/lookup?key=session:1&regionId=big', headers: f!.operator });

    const watch = watchEventLoop();
    const created = await f.setup('POST', '/v1/regions', { id: 'big', name: 'Big', lat: 0, lon: 0, complianceZone: 'eu', costPerVcpuHour: 0.02, shards });
    await applied(created.position as number);
    const answer = await lookup();
    const changed = await f.app.inject({ method: 'PATCH', url: '/v1/regions/big', headers: f.operator, payload: { shards: shards - 1 } });
    expect(changed.statusCode, changed.body).toBe(200);
    await applied(changed.json().position as number);
    const after = await lookup();
    const stall = watch.stop();

    expect(answer.json()).toEqual({ key: 'session:1', region: 'big', ...createRing({ regionId: 'big', shards }).lookup('session:1'), source: 'ring' });
    expect(after.json()).toMatchObject({ region: 'big', ...createRing({ regionId: 'big', shards: shards - 1 }).lookup('session:1') });
    const shardsNow = await f.app.inject({ method: 'GET', url: '/v1/regions/big/shards', headers: f.operator });
    expect(shardsNow.json().plans).toMatchObject([{ fromShards: shards, toShards: shards - 1 }]);
    // Everything else the requests and the projections did still runs on the loop; the builds do not.
    expect(stall, `longest stall ${stall.toFixed(0)} ms; one-piece build ${singlePiece.toFixed(0)} ms`).toBeLessThan(singlePiece / 2);
  });
});
