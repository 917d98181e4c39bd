// A downstream team's consumer of NovaCron's topics, written the way they
// would: plain kafkajs and @kafkajs/confluent-schema-registry, nothing from
// NovaCron. Values are Avro in the Confluent wire format; the registry gives
// the writer schema by the id in each value; headers say what the event is.
// Before using a record it checks (as the README's Kafka section asks) that the
// writer schema's full name is `novacron.events.<type header>`: a record whose
// id resolves to another schema is set aside, never taken for its header's type.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

export interface DownstreamEvent {
  topic: string;
  partition: number;
  key: string;
  type: string;
  streamId: string;
  revision: number;
  position: number;
  eventId: string;
  tenantId: string | null;
  schemaVersion: number;
  data: Record<string, unknown>;
}

export interface RefusedRecord {
  topic: string;
  partition: number;
  offset: string;
  type: string;
  /** Full name of the schema the record's id resolves to. */
  writer: string;
}

const header = (headers: Record<string, unknown> | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  return value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
};

/** Reads `topics` from the beginning until `count` records arrived, decoding each value through the registry. */
export async function consumeNovaCronEvents({
  brokers,
  registryUrl,
  topics,
  count,
  groupId,
  refused = [],
}: {
  brokers: string[];
  registryUrl: string;
  topics: string[];
  count: number;
  groupId: string;
  /** Filled with the records whose writer schema is not the type their header names. */
  refused?: RefusedRecord[];
}): Promise<DownstreamEvent[]> {
  const kafka = new Kafka({ clientId: 'downstream-team', brokers, logLevel: logLevel.ERROR });
  const registry = new SchemaRegistry({ host: registryUrl });
  const consumer = kafka.consumer({ groupId });
  const events: DownstreamEvent[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      void consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            if (message.value === null) return;
            const type = header(message.headers, 'type') ?? '';
            const writer = (await registry.getSchema(message.value.readInt32BE(1))) as { name?: string };
            if (writer.name !== `novacron.events.${type}`) {
              refused.push({ topic, partition, offset: message.offset, type, writer: writer.name ?? '' });
              if (events.length + refused.length >= count) resolve();
              return;
            }
            const decoded = (await registry.decode(message.value)) as Record<string, unknown>;
            events.push({
              topic,
              partition,
              key: message.key?.toString() ?? '',
              type,
              streamId: header(message.headers, 'streamId') ?? '',
              revision: Number(header(message.headers, 'revision')),
              position: Number(header(message.headers, 'position')),
              eventId: header(message.headers, 'eventId') ?? '',
              tenantId: header(message.headers, 'tenantId') ?? null,
              schemaVersion: Number(header(message.headers, 'schemaVersion')),
              data: JSON.parse(JSON.stringify(decoded)) as Record<string, unknown>,
            });
            if (events.length + refused.length >= count) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return events;
}
