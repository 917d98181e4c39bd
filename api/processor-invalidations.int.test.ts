// `--role processor` with NOVACRON_REDIS_URL, on a real broker, schema registry
// and Redis (skipped unless NOVACRON_KAFKA_BROKERS, NOVACRON_SCHEMA_REGISTRY_URL
// and NOVACRON_REDIS_URL are set; failing under NOVACRON_REQUIRE_INFRA=1): the
// inventory's commits in the processor process reach the caches of other
// processes through Redis pub/sub.
//
//   eval "$(infra/local/up)"; npx vitest run api/processor-invalidations.int.test.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisClient, createRedisInvalidationBus, type RedisInvalidationBus } from '../projections/cache-invalidation/index.ts';
import { connectedClient, dropRedisPrefix, eventually, redisInfra, uniqueRedisPrefix } from '../projections/cache-invalidation/redis-testing.ts';
import { createKafkaClient, ensureTopics } from '../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, uniquePrefix } from '../streams/kafka/testing.ts';
import { loadConfig } from './config.ts';
import { startProcessors, type RunningProcessors } from './processor-role.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const kafkaEnv = kafkaInfra();
const redisEnv = redisInfra();

describe.runIf(kafkaEnv.run && redisEnv.run)('--role processor publishing invalidations on Redis', () => {
  const topicPrefix = uniquePrefix('processor-invalidations');
  const redisPrefix = uniqueRedisPrefix('processor');
  const masterKey = '0f'.repeat(32);
  const processorDir = mkdtempSync(join(tmpdir(), 'novacron-processor-invalidations-'));
  let f: FleetApp;
  let processors: RunningProcessors;
  let observer: RedisInvalidationBus;
  const seen: string[] = [];
  const kafka = () => createKafkaClient({ brokers: kafkaEnv.brokers() });

  beforeAll(async () => {
    await ensureTopics({ kafka: kafka(), prefix: topicPrefix, partitions: 3, replication: 1 });
    const kafkaSettings = { NOVACRON_KAFKA_BROKERS: kafkaEnv.brokers().join(','), NOVACRON_SCHEMA_REGISTRY_URL: kafkaEnv.registryUrl(), NOVACRON_KAFKA_TOPIC_PREFIX: topicPrefix, NOVACRON_MASTER_KEY: masterKey };
    // The API (with the relay) on the embedded inventory; the processor runs an inventory of its own from Kafka, in its own data dir.
    f = await fleetApp({ ...kafkaSettings, NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
    const redisSettings = { NOVACRON_REDIS_URL: redisEnv.url(), NOVACRON_REDIS_PREFIX: redisPrefix };
    processors = await startProcessors({ ...loadConfig({ ...kafkaSettings, ...redisSettings, NOVACRON_DATA_DIR: processorDir, NOVACRON_SQLITE_SYNC: 'normal' }), port: 0 }, ['inventory'], {
      log: { info: () => undefined, warn: () => undefined, error: (fields, msg) => console.error(msg, fields) },
    });
    observer = createRedisInvalidationBus({ client: await connectedClient(createRedisClient(redisEnv.url())), prefix: redisPrefix });
    observer.subscribe((tags) => seen.push(...tags));
    expect(await observer.whenLive(5000)).toBe(true);
    await vi.waitFor(async () => expect((await processors.host.status()).every((s) => s.assigned.length > 0)).toBe(true), { timeout: 30_000, interval: 100 });
    await seedApi(f, { nodes: 1 });
  }, 90_000);
  afterAll(async () => {
    await processors?.close();
    await f?.close();
    await observer?.close();
    const admin = await connectedClient(createRedisClient(redisEnv.url()));
    await dropRedisPrefix(admin, redisPrefix);
    admin.disconnect();
    await dropTopics(kafka(), topicPrefix).catch(() => undefined);
    rmSync(processorDir, { recursive: true, force: true });
  });

  it('publishes the tags of each inventory commit (without a checkpoint: Kafka has no global order), and counts them', async () => {
    const vm = await f.setup('POST', '/v1/vms', { name: 'web', vcpus: 1, memoryMiB: 512, diskGiB: 1, image: 'debian-12', tenantId: 'acme' });
    // The tenant's and the VM's events travel on different topics: either may be applied first.
    await eventually('the VM’s and the tenant’s tags arrive from the processor', () => seen.includes(`vm:${String(vm['id'])}`) && seen.includes('tenant:acme'), 20_000);
    const metrics = await (await fetch(`${processors.url}/metrics`)).text();
    expect(metrics).toMatch(/novacron_invalidation_messages_total\{outcome="published"\} [1-9]/);
  });
});
