import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { parseProcessors } from './processor-role.ts';
import { configRejection } from './testing/config-rejection.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'novacron.mjs');

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'novacron-processor-role-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** The CLI without any Kafka setting of the environment the tests run in. */
function novacron(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NOVACRON_')));
  return spawnSync(process.execPath, [bin, ...args], { cwd: root, env: { ...env, NOVACRON_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 20_000 });
}

describe('novacron start --role processor', () => {
  it('says clearly that it needs Kafka and the schema registry', () => {
    const run = novacron(['start', '--role', 'processor', '--processors', 'shard-map,routing-table']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/NC_CONFIG_INVALID: --role processor reads the log from Kafka: set NOVACRON_KAFKA_BROKERS and NOVACRON_SCHEMA_REGISTRY_URL/);
  });

  it.each([
    [['start', '--role', 'processor'], /--role processor needs --processors <name,…>: one or more of inventory, shard-map/],
    [['start', '--role', 'processor', '--processors', 'shard-map,nope'], /--processors: unknown "nope" \(known: /],
    [['start', '--role', 'api', '--processors', 'shard-map'], /--processors is only for --role processor/],
    [['start', '--role', 'worker'], /--role must be all, api, relay, processor/],
  ])('%j is a usage error', (args, message) => {
    const run = novacron(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('parses --processors', () => {
    expect(parseProcessors(' shard-map, routing-table,shard-map ')).toEqual(['shard-map', 'routing-table']);
  });
});

describe('NOVACRON_KAFKA_PROCESSORS', () => {
  const kafka = { NOVACRON_KAFKA_BROKERS: '127.0.0.1:9092', NOVACRON_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081' };
  it('names the projections the API reads from Kafka-fed processors', () => {
    expect(loadConfig({ ...kafka, NOVACRON_KAFKA_PROCESSORS: 'shard-map, routing-table' }).kafkaProcessors).toEqual(['shard-map', 'routing-table']);
    expect(loadConfig({}).kafkaProcessors).toEqual([]);
  });

  it.each([
    [{ ...kafka, NOVACRON_KAFKA_PROCESSORS: 'inventory' }, /the inventory stays in the API's process/],
    [{ ...kafka, NOVACRON_KAFKA_PROCESSORS: 'shard-map,nope' }, /must be a comma-separated list of shard-map, routing-table, capacity-forecast/],
    [{ NOVACRON_KAFKA_PROCESSORS: 'shard-map' }, /needs NOVACRON_KAFKA_BROKERS/],
  ])('refuses %j with NC_CONFIG_INVALID', (env, message) => {
    const caught = configRejection(() => loadConfig(env));
    expect(caught.message).toMatch(message);
    expect(caught.details).toEqual({ variable: 'NOVACRON_KAFKA_PROCESSORS' });
  });
});
