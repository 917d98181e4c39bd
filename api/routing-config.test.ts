import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, loadLatencyMatrix } from './config.ts';
import { configRejection } from './testing/config-rejection.ts';

const dir = mkdtempSync(join(tmpdir(), 'novacron-routing-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rejection(run: () => unknown, name: string): string {
  const caught = configRejection(run);
  expect(caught.message.startsWith(name)).toBe(true);
  expect(caught.details).toEqual({ variable: name });
  return caught.message;
}

describe('routing settings', () => {
  it('reads the hybrid weights (components left out weigh 0), the least headroom and the matrix path', () => {
    expect(
      loadConfig({
        NOVACRON_ROUTING_WEIGHTS: 'distance=0.1, latency=0.4,cost=0.25,load=0.25',
        NOVACRON_ROUTING_MIN_HEADROOM: '0.2',
        NOVACRON_ROUTING_LATENCY_MATRIX: 'latency.json',
      }),
    ).toMatchObject({
      routingWeights: { distance: 0.1, latency: 0.4, cost: 0.25, load: 0.25 },
      routingMinHeadroom: 0.2,
      routingLatencyMatrix: resolve('latency.json'),
    });
    expect(loadConfig({ NOVACRON_ROUTING_WEIGHTS: 'latency=1' }).routingWeights).toEqual({ distance: 0, latency: 1, cost: 0, load: 0 });
    expect(loadConfig({ NOVACRON_ROUTING_MIN_HEADROOM: '0' }).routingMinHeadroom).toBe(0);
  });

  it.each([
    ['NOVACRON_ROUTING_WEIGHTS', 'latency'],
    ['NOVACRON_ROUTING_WEIGHTS', 'speed=1'],
    ['NOVACRON_ROUTING_WEIGHTS', 'latency=1,latency=2'],
    ['NOVACRON_ROUTING_WEIGHTS', 'latency=-1'],
    ['NOVACRON_ROUTING_WEIGHTS', 'latency=0,cost=0'],
    ['NOVACRON_ROUTING_MIN_HEADROOM', '1.5'],
    ['NOVACRON_ROUTING_MIN_HEADROOM', '5%'],
  ])('rejects %s=%s with NC_CONFIG_INVALID naming the variable', (name, value) => {
    rejection(() => loadConfig({ [name]: value }), name);
  });

  it('loads a latency matrix file, and refuses a missing, malformed or ill-shaped one naming NOVACRON_ROUTING_LATENCY_MATRIX', () => {
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    expect(loadLatencyMatrix(undefined)).toBeUndefined();
    expect(loadLatencyMatrix(file('ok.json', '{"eu-west":{"us-east":72,"cell-paris":11}}'))).toEqual({ 'eu-west': { 'us-east': 72, 'cell-paris': 11 } });
    const name = 'NOVACRON_ROUTING_LATENCY_MATRIX';
    expect(rejection(() => loadLatencyMatrix(join(dir, 'missing.json')), name)).toMatch(/ENOENT/);
    expect(rejection(() => loadLatencyMatrix(file('bad.json', '{eu')), name)).toMatch(/not valid JSON/);
    rejection(() => loadLatencyMatrix(file('array.json', '[1]')), name);
    rejection(() => loadLatencyMatrix(file('row.json', '{"eu-west":5}')), name);
    expect(rejection(() => loadLatencyMatrix(file('neg.json', '{"eu-west":{"us-east":-3}}')), name)).toMatch(/"eu-west" → "us-east"/);
  });
});
