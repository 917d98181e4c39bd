// Operators' status routes while Kafka cannot be reached (a port nothing listens on):
// 503 NC_KAFKA_UNAVAILABLE with the reason, within the status bound — never a 500,
// never a stale "running".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApp, type FleetApp } from './testing/fleet-app.ts';

describe('GET /v1/admin/processors with Kafka unreachable', () => {
  let f: FleetApp;
  beforeAll(async () => {
    f = await fleetApp({
      NOVACRON_KAFKA_BROKERS: '127.0.0.1:1',
      NOVACRON_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1/apis/ccompat/v7',
      NOVACRON_KAFKA_TOPIC_PREFIX: 'kafka-down',
      NOVACRON_KAFKA_PROCESSORS: 'routing-table',
      NOVACRON_SWEEP_INTERVAL_MS: '3600000',
    });
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  it('answers 503 NC_KAFKA_UNAVAILABLE naming the outage', async () => {
    const started = performance.now();
    const response = await f.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.operator });
    const tookMs = performance.now() - started;
    expect(response.statusCode, response.body).toBe(503);
    expect(response.json()).toMatchObject({ error: { code: 'NC_KAFKA_UNAVAILABLE' } });
    expect(response.json().error.message).toMatch(/Kafka/);
    // The status bound (3 s by default), plus slack for a loaded machine.
    expect(tookMs).toBeLessThan(15_000);
  }, 60_000);
});
