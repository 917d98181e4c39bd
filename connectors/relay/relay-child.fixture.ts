// A relay in its own process, for relay.int.test.ts to SIGKILL at random moments.
//   node --import tsx relay-child.fixture.ts <events.db> <topic prefix> <lock file>
// NOVACRON_KAFKA_BROKERS and NOVACRON_SCHEMA_REGISTRY_URL name the services.
// Prints one JSON line per acknowledged batch: {"published":n,"sent":k,"skipped":s}.
import { randomBytes } from 'node:crypto';
import { createEventCodec, defaultCatalog } from '../../streams/catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../streams/crypto/index.ts';
import { createSqliteEventStore } from '../../streams/eventstore/sqlite/store.ts';
import { createKafkaClient, createRegistrySchemas, createSchemaRegistry } from '../../streams/kafka/index.ts';
import { createRelay } from './relay.ts';

const [path, topicPrefix, lockPath] = process.argv.slice(2);
if (!path || !topicPrefix || !lockPath) throw new Error('usage: relay-child.fixture.ts <events.db> <topic prefix> <lock file>');
const brokers = (process.env['NOVACRON_KAFKA_BROKERS'] ?? '').split(',');
const url = process.env['NOVACRON_SCHEMA_REGISTRY_URL'] ?? '';

// The relay reads raw events: the codec (and its keys) is never used to decode.
const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
const store = createSqliteEventStore({ path, codec: createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) }), pollIntervalMs: 20, sync: 'normal' });
const relay = createRelay({
  store,
  kafka: createKafkaClient({ brokers, clientId: 'novacron-relay-test' }),
  schemas: createRegistrySchemas({ registry: createSchemaRegistry(url), url, catalog: defaultCatalog() }),
  topicPrefix,
  lockPath,
  backoff: { initialMs: 100, maxMs: 1000 },
  onBatch: ({ published, sent, skipped }) => process.stdout.write(`${JSON.stringify({ published, sent, skipped })}\n`),
  onFailed: (error) => {
    console.error('relay failed', error);
    process.exit(3);
  },
  log: {
    info: (fields, msg) => process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
    warn: (fields, msg) => process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
    error: (fields, msg) => process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
  },
});
await relay.start();
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
