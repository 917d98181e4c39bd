import type { FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { openTempEventStore } from '../../streams/eventstore/sqlite/testing.ts';
import type { LogOrdering, ProjectionHost } from '../../streams/processing/host.ts';
import { settleConsistency } from './consistency.ts';

let store: EventStore;
let close: () => Promise<void>;
beforeEach(() => ({ store, close } = openTempEventStore('consistency')));
afterEach(() => close());

/** A host that records what it is asked to wait for and answers `reached`. */
function fakeHost(ordering: LogOrdering, reached = true) {
  const waits: unknown[] = [];
  const host = {
    names: ['routing-table'],
    ordering: () => ordering,
    waitFor: async (name: string, position: number) => (waits.push({ name, position }), reached),
    waitForStream: async (name: string, streamId: string, revision: number) => (waits.push({ name, streamId, revision }), reached),
    checkpoint: () => 41,
  } as unknown as ProjectionHost;
  return { host, waits };
}
const request = (after?: string) => ({ headers: after === undefined ? {} : { 'x-novacron-after': after } }) as unknown as FastifyRequest;
const health = { type: 'ClusterHealthReported', data: { clusterId: 'c', regionId: 'r', healthy: true, detail: null } };
const settle = (host: ProjectionHost, after?: string) => settleConsistency(request(after), { consistency: undefined, host, projection: 'routing-table', store, sessionWaitMs: 100 });

describe('session reads on a per-stream log (processors fed from Kafka)', () => {
  it('waits for the stream revision: named, or found from a bare position', async () => {
    await store.append('cluster-a', [health]);
    const { position } = await store.append('cluster-b', [health, health]);
    const { host, waits } = fakeHost('per-stream');
    expect(await settle(host, 'cluster-b@1')).toBe('session');
    expect(await settle(host, String(position - 1))).toBe('session');
    expect(await settle(host)).toBe('eventual');
    expect(waits).toEqual([
      { name: 'routing-table', streamId: 'cluster-b', revision: 1 },
      { name: 'routing-table', streamId: 'cluster-b', revision: 0 },
    ]);
  });

  it('answers 400 for a position that is not in the event store, 503 naming the stream when the wait runs out', async () => {
    const { position } = await store.append('cluster-b', [health]);
    const refused = await settle(fakeHost('per-stream').host, String(position + 5)).catch((e: unknown) => e);
    expect(isNovaCronError(refused, 'NC_VALIDATION') && refused.message).toMatch(/position \d+, which is not in the event store/);
    const lagging = await settle(fakeHost('per-stream', false).host, 'cluster-b@0').catch((e: unknown) => e);
    expect(isNovaCronError(lagging, 'NC_PROJECTION_LAGGING')).toBe(true);
    expect(isNovaCronError(lagging) && lagging.details).toEqual({ projection: 'routing-table', position, streamId: 'cluster-b', revision: 0, checkpoint: 41 });
  });

  it('on the embedded log (one global order) still waits for the position', async () => {
    await store.append('cluster-b', [health, health]);
    const { host, waits } = fakeHost('global');
    await settle(host, 'cluster-b@1');
    await settle(host, '1');
    expect(waits).toEqual([
      { name: 'routing-table', position: 2 },
      { name: 'routing-table', position: 1 },
    ]);
  });
});
