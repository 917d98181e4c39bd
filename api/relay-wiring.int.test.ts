// `npm start` runs the relay beside the API when NOVACRON_KAFKA_BROKERS is set
// (api/wiring.ts); `--role api` (wireApi(…, { relay: false })) runs it without.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { samples } from '../streams/catalog/fixtures.ts';
import { createKafkaClient, ensureTopics } from '../streams/kafka/index.ts';
import { dropTopics, kafkaInfra, uniquePrefix } from '../streams/kafka/testing.ts';
import { loadConfig } from './config.ts';
import { startServer } from './server.ts';
import { wireApi } from './wiring.ts';

const infra = kafkaInfra();
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe.runIf(infra.run)('the relay in the API process (Kafka + schema registry)', () => {
  const configFor = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'novacron-relay-wiring-'));
    dirs.push(dir);
    return loadConfig({
      NOVACRON_DATA_DIR: dir,
      NOVACRON_PORT: '0',
      NOVACRON_SQLITE_SYNC: 'normal',
      NOVACRON_LOG_LEVEL: 'silent',
      NOVACRON_KAFKA_BROKERS: infra.brokers().join(','),
      NOVACRON_SCHEMA_REGISTRY_URL: infra.registryUrl(),
      NOVACRON_KAFKA_TOPIC_PREFIX: prefix,
      NOVACRON_KAFKA_PARTITIONS: '2',
    });
  };

  it('starts with the app, publishes what is appended, shows its lag in /metrics, and stops with it', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('wiring');
    const kafka = createKafkaClient({ brokers: infra.brokers() });
    await ensureTopics({ kafka, prefix, partitions: 2, replication: 1 });
    const config = configFor(prefix);
    const server = await startServer(config);
    try {
      await server.platform.store.append('cluster-c1', [{ type: 'ClusterJoined', data: samples.ClusterJoined }]);
      await server.platform.store.append('vm-vm1', [{ type: 'VmStarted', data: samples.VmStarted, metadata: { tenantId: 't1' } }]);
      const deadline = Date.now() + 30_000;
      let metrics = '';
      while (!/novacron_relay_published_position 2\b/.test(metrics)) {
        if (Date.now() > deadline) throw new Error(`the relay did not publish: ${metrics.split('\n').filter((l) => l.startsWith('novacron_relay')).join('; ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
      }
      expect(metrics).toContain('novacron_relay_lag_events 0');
      expect(metrics).toContain('novacron_relay_up 1');
      expect(existsSync(join(config.dataDir, `relay.${prefix}.lock`))).toBe(true);
    } finally {
      await server.close();
    }
    expect(existsSync(join(config.dataDir, `relay.${prefix}.lock`))).toBe(false);
    await dropTopics(kafka, prefix);
  });

  it('runs no relay with --role api', async () => {
    const server = await startServer(configFor(uniquePrefix('wiring-api')), { wiring: (platform) => wireApi(platform, { relay: false }) });
    try {
      expect((await server.app.inject({ method: 'GET', url: '/metrics' })).body).not.toContain('novacron_relay');
    } finally {
      await server.close();
    }
  });
});
