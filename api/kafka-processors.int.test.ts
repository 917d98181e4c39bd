// The scale-out read path end to end, on a real broker and schema registry:
// the API (with the relay beside it, NOVACRON_KAFKA_PROCESSORS=routing-table,shard-map)
// and `--role processor` for those two projections share a data dir. A write
// through the API is read back at once with consistency=session: the API
// waits on the stream revision the processor commits to the projection file.
//
//   eval "$(infra/local/up)"; npx vitest run api/kafka-processors.int.test.ts
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKafkaClient, ensureTopics } from '../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, uniquePrefix } from '../streams/kafka/testing.ts';
import { startProcessors, type RunningProcessors } from './processor-role.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const infra = kafkaInfra();

describe.runIf(infra.run)('API reading projections fed from Kafka by --role processor', () => {
  const prefix = uniquePrefix('api-processors');
  let f: FleetApp;
  let processors: RunningProcessors;
  const kafka = () => createKafkaClient({ brokers: infra.brokers() });

  beforeAll(async () => {
    await ensureTopics({ kafka: kafka(), prefix, partitions: 3, replication: 1 });
    f = await fleetApp({
      NOVACRON_KAFKA_BROKERS: infra.brokers().join(','),
      NOVACRON_SCHEMA_REGISTRY_URL: infra.registryUrl(),
      NOVACRON_KAFKA_TOPIC_PREFIX: prefix,
      NOVACRON_KAFKA_PROCESSORS: 'routing-table,shard-map',
      NOVACRON_SESSION_WAIT_MS: '15000',
      NOVACRON_SWEEP_INTERVAL_MS: '3600000',
    });
    processors = await startProcessors({ ...f.config, port: 0 }, ['routing-table', 'shard-map'], {
      log: { info: () => undefined, warn: () => undefined, error: (fields, msg) => console.error(msg, fields) },
    });
    // Both groups have their partitions before the first write.
    await vi.waitFor(async () => expect((await processors.host.status()).every((s) => s.assigned.length > 0)).toBe(true), { timeout: 30_000, interval: 100 });
    await seedApi(f);
    // A session read waits for its own stream only (per-stream order): let every seeded stream (region, cluster, nodes) be applied first.
    const last = new Map((await f.platform.store.readAll()).map((e) => [e.streamId, e.revision]));
    for (const [streamId, revision] of last) expect(await f.platform.projections.waitForStream('routing-table', streamId, revision, 30_000)).toBe(true);
  }, 90_000);
  afterAll(async () => {
    await processors?.close();
    await f?.close();
    await dropTopics(kafka(), prefix).catch(() => undefined);
  });

  it('reads its own writes with consistency=session, by <streamId>@<revision> and by position', async () => {
    const waits: number[] = [];
    const forms = [(r: { streamId: string; revision: number }) => `${r.streamId}@${r.revision}`, (r: { position: number }) => String(r.position)];
    for (let i = 0; i < 12; i++) {
      const after = forms[i % 2]!;
      const tenantId = `initech${i}`;
      const created = await f.setup('POST', '/v1/tenants', {
        id: tenantId,
        name: tenantId,
        quota: { vms: 5, vcpus: 100, memoryMiB: 100_000, diskGiB: 1000 },
        allowedRegions: ['eu-west'],
      });
      const started = performance.now();
      const routes = await f.app.inject({
        method: 'GET',
        url: `/v1/routes?lat=52&lon=0&tenantId=${tenantId}&consistency=session`,
        headers: { ...f.operator, 'x-novacron-after': after(created as { streamId: string; revision: number; position: number }) },
      });
      waits.push(performance.now() - started);
      expect(routes.statusCode, routes.body).toBe(200);
      expect(routes.json().routes.map((r: { regionId: string }) => r.regionId)).toEqual(['eu-west']);
    }

    const vm = await f.app.inject({ method: 'POST', url: '/v1/vms', headers: f.tenant('acme'), payload: { name: 'web', vcpus: 1, memoryMiB: 512, diskGiB: 1, image: 'debian-12' } });
    expect(vm.statusCode, vm.body).toBe(201);
    const { id, streamId, revision } = vm.json();
    const lookup = await f.app.inject({
      method: 'GET',
      url: `/v1/shards/lookup?key=${id}&consistency=session`,
      headers: { ...f.tenant('acme'), 'x-novacron-after': `${streamId}@${revision}` },
    });
    expect(lookup.statusCode, lookup.body).toBe(200);
    expect(lookup.json()).toMatchObject({ key: id, region: 'eu-west', source: 'vm' });
    const sorted = [...waits].sort((a, b) => a - b);
    console.log(`session reads through Kafka (write → relay → Kafka → processor commit → API sees it): ${waits.length} reads, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (first ${waits[0]!.toFixed(0)} ms)`);
  });

  it('shows the Kafka-fed processors with their lag; the processor serves /healthz and /metrics', async () => {
    await expect
      .poll(
        async () => {
          const answer = await f.app.inject({ method: 'GET', url: '/v1/admin/processors', headers: f.operator });
          const rows = answer.json().processors as Array<{ name: string; lag: number; state: string }>;
          return rows.filter((r) => r.name === 'routing-table' || r.name === 'shard-map').map((r) => [r.name, r.lag]);
        },
        { timeout: 30_000, interval: 100 },
      )
      .toEqual([
        ['shard-map', 0],
        ['routing-table', 0],
      ]);
    const health = await fetch(`${processors.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', processors: [{ name: 'shard-map', state: 'running' }, { name: 'routing-table', state: 'running' }] });
    const metrics = await (await fetch(`${processors.url}/metrics`)).text();
    expect(metrics).toMatch(/novacron_processor_lag\{processor="routing-table"\} 0/);
    expect(metrics).toMatch(/novacron_processor_events_total\{processor="shard-map"\} [1-9]/);
  });

  it('replays a Kafka-fed projection from the topics into a new generation, which the processor follows', async () => {
    const routeOf = (tenantId: string) => f.platform.projections.queries<{ route: (t: string, at: { lat: number; lon: number }, o: object) => unknown }>('routing-table').route(tenantId, { lat: 52, lon: 0 }, { strategy: 'hybrid', minHeadroom: 0.05, hybridWeights: { distance: 0.1, latency: 0.4, cost: 0.25, load: 0.25 } });
    const answerBefore = routeOf('acme');
    const replayed = await f.platform.projections.replay('routing-table');
    expect(replayed).toMatchObject({ name: 'routing-table', generation: 2 });
    expect(replayed.events).toBeGreaterThan(0);
    expect(routeOf('acme')).toEqual(answerBefore);
    // The processor instance follows the switch and goes on in the new generation's group.
    await vi.waitFor(async () => {
      const row = (await processors.host.status()).find((s) => s.name === 'routing-table');
      expect(row).toMatchObject({ generation: 2, state: 'running', groupId: expect.stringMatching(/\.routing-table\.g2$/) });
      expect(row?.assigned.length).toBeGreaterThan(0);
    }, { timeout: 30_000, interval: 100 });
    const created = await f.setup('POST', '/v1/tenants', { id: 'after-replay', name: 'after-replay', quota: { vms: 1, vcpus: 1, memoryMiB: 1024, diskGiB: 10 }, allowedRegions: ['eu-west'] });
    const routes = await f.app.inject({
      method: 'GET',
      url: '/v1/routes?lat=52&lon=0&tenantId=after-replay&consistency=session',
      headers: { ...f.operator, 'x-novacron-after': `${String(created['streamId'])}@${String(created['revision'])}` },
    });
    expect(routes.statusCode, routes.body).toBe(200);
  });
});
