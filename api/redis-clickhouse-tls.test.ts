import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, redisTlsOptions } from '../projections/cache-invalidation/index.ts';
import { clickhouseTlsOptions } from '../streams/clickhouse/index.ts';
import { loadConfig } from './config.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));
const caFile = () => {
  dir = mkdtempSync(join(tmpdir(), 'novacron-store-tls-'));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, PEM);
  return ca;
};

describe('TLS to Redis (rediss://, NOVACRON_REDIS_CA) and ClickHouse (https://, NOVACRON_CLICKHOUSE_CA)', () => {
  it('hand ioredis its tls with the CA file', () => {
    const ca = caFile();
    const { redis } = loadConfig({ NOVACRON_REDIS_URL: 'rediss://cache:6380', NOVACRON_REDIS_CA: ca });
    expect(redis.caPath).toBe(ca);
    const tls = redisTlsOptions({ url: redis.url as string, caPath: redis.caPath });
    expect(tls).toEqual({ ca: [PEM] });
    const client = createRedisClient('rediss://127.0.0.1:1', { tls: tls as object });
    try {
      expect(client.options.tls).toEqual({ ca: [PEM] });
    } finally {
      client.disconnect();
    }
    const plain = createRedisClient('rediss://127.0.0.1:1');
    try {
      expect(plain.options.tls).toBe(true);
    } finally {
      plain.disconnect();
    }
  });

  it('hand @clickhouse/client its tls with the CA file', () => {
    const ca = caFile();
    const { clickhouse } = loadConfig({ NOVACRON_CLICKHOUSE_URL: 'https://u:p@clickhouse:8443', NOVACRON_CLICKHOUSE_CA: ca });
    expect(clickhouse.caPath).toBe(ca);
    expect(clickhouseTlsOptions({ url: clickhouse.url as string, caPath: clickhouse.caPath })).toEqual({ tls: { ca_cert: Buffer.from(PEM) } });
    expect(clickhouseTlsOptions({ url: 'http://clickhouse:8123', caPath: undefined })).toEqual({});
  });

  it('refuse a CA without a TLS URL', () => {
    expect(() => loadConfig({ NOVACRON_REDIS_URL: 'redis://cache:6379', NOVACRON_REDIS_CA: '/tmp/ca.pem' })).toThrow(/NOVACRON_REDIS_CA/);
    expect(() => loadConfig({ NOVACRON_REDIS_CA: '/tmp/ca.pem' })).toThrow(/NOVACRON_REDIS_CA/);
    expect(() => loadConfig({ NOVACRON_CLICKHOUSE_URL: 'http://clickhouse:8123', NOVACRON_CLICKHOUSE_CA: '/tmp/ca.pem' })).toThrow(/NOVACRON_CLICKHOUSE_CA/);
  });
});
