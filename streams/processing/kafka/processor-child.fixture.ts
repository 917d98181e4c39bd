// A processor instance in its own process, for processors.int.test.ts to SIGKILL mid-batch
// and to SIGSTOP into a zombie.
//   node --import tsx processor-child.fixture.ts '<json options>'
// options: { dir, topicPrefix, groupPrefix, keysPath, masterKeyHex, partitions,
//            slowApplyMs?, decodeDelayMs?, batchSize? }
// NOVACRON_KAFKA_BROKERS and NOVACRON_SCHEMA_REGISTRY_URL name the services.
// Prints JSON lines: {"started":true};
//   {"midBatch":name,"events":n}   inside the transaction, before it sleeps slowApplyMs and commits;
//   {"decoding":"ledger","topic","partition","offset"}   after a SIGUSR1, once: before the ledger's
//                                  next (async) decoding of a record waits decodeDelayMs, outside any transaction;
//   {"commit":name,"events":n}; {"fenced":name,"message"}.
import { writeSync } from 'node:fs';
import { createRoutingProjection } from '../../../projections/routing/index.ts';
import { createShardMapProjection } from '../../../projections/shard-map/index.ts';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import { createEventSerde, createKafkaClient, createRegistrySchemas, createSchemaRegistry, headerOf, partitionOf, topicOf } from '../../kafka/index.ts';
import type { AnySqliteProjection } from '../projection.ts';
import { createKafkaEventDecoder, type KafkaEventDecoder } from './decoder.ts';
import { createKafkaProjectionHost, type KafkaProjectionHost } from './host.ts';
import { ledgerProjection } from './testing.ts';

interface Options {
  dir: string;
  topicPrefix: string;
  groupPrefix: string;
  keysPath: string;
  masterKeyHex: string;
  partitions: number;
  slowApplyMs?: number;
  decodeDelayMs?: number;
  batchSize?: number;
}
const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const { dir, topicPrefix, groupPrefix, keysPath, masterKeyHex, partitions, slowApplyMs = 0, decodeDelayMs = 0, batchSize = 100 } = options;
const brokers = (process.env['NOVACRON_KAFKA_BROKERS'] ?? '').split(',');
const url = process.env['NOVACRON_SCHEMA_REGISTRY_URL'] ?? '';
const say = (line: object) => writeSync(1, `${JSON.stringify(line)}\n`); // synchronous: printed before what follows
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const catalog = defaultCatalog();
const keys = createKeyStore({ path: keysPath, masterKey: Buffer.from(masterKeyHex, 'hex') });
const codec = createEventCodec({ catalog, cipher: createPersonalDataCipher(keys) });
const schemas = createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog });
const decoder = createKafkaEventDecoder({ serde: createEventSerde({ schemas, topicPrefix }), codec, catalog });
const kafka = createKafkaClient({ brokers, clientId: 'novacron-processor-test' });

/** The projection, slowed down inside its transaction so that a kill lands mid-batch. */
const slowed = (projection: AnySqliteProjection): AnySqliteProjection => ({
  ...projection,
  apply: (batch, db) => {
    projection.apply(batch, db);
    if (slowApplyMs > 0 && batch.length > 0) {
      say({ midBatch: projection.name, events: batch.length });
      sleepSync(slowApplyMs);
    }
  },
});

/** The decoder, pausing once after SIGUSR1 (a GC pause, a frozen VM) between fetch and commit, so that a stop makes a zombie. */
let armed = false;
process.on('SIGUSR1', () => (armed = true));
const delayed = (name: string): KafkaEventDecoder => ({
  ...decoder,
  async event(message) {
    if (armed && name === 'ledger') {
      armed = false;
      const streamId = headerOf(message.headers, 'streamId') ?? '';
      say({ decoding: name, topic: topicOf(topicPrefix, streamId), partition: partitionOf(streamId, partitions), offset: Number(message.offset) });
      await new Promise((resolve) => setTimeout(resolve, decodeDelayMs));
    }
    return decoder.event(message);
  },
});

// One host per projection, so each has its own decoder (and its pauses name it).
const hosts: KafkaProjectionHost[] = [ledgerProjection(catalog.types), createRoutingProjection(), createShardMapProjection()].map((projection) =>
  createKafkaProjectionHost({
    dir,
    projections: [slowed(projection)],
    consume: [projection.name],
    kafka,
    topicPrefix,
    groupPrefix,
    decoder: delayed(projection.name),
    sync: 'normal',
    batchSize,
    sessionTimeoutMs: 6_000,
    onCommit: (name, batch) => say({ commit: name, events: batch.length }),
    onFenced: (name, error) => say({ fenced: name, message: error.message }),
    onError: (name, error) => process.stderr.write(`${name}: ${error instanceof Error ? error.stack : String(error)}\n`),
  }),
);
// Before the hosts start: a SIGTERM while a consumer is still joining its group stops cleanly too.
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
  Promise.all(hosts.map((host) => host.stop())).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`stop failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
try {
  await Promise.all(hosts.map((host) => host.start()));
  say({ started: true });
} catch (error) {
  if (!stopping) throw error; // a start cut short by the stop is not a failure
}
