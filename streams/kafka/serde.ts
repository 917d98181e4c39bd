/**
 * Events on Kafka: key = stream id, value = the event's data in Avro with the
 * Confluent wire format (magic byte 0, 4-byte schema id, Avro body), headers =
 * the rest of the event (see headers.ts), timestamp = when the store recorded it.
 *
 * `encode` takes an event as stored (read with `raw: true`): personal fields
 * still encrypted, data in the shape of the schema version it was written with,
 * which is the writer schema it is encoded with. `decode` reads the writer
 * schema from the registry by the id in the value and resolves the data to the
 * catalog's current schema (Avro schema resolution: defaults fill new fields).
 */
import type { IHeaders } from 'kafkajs';
import type { Resolver, Type } from 'avsc';
import { NovaCronError, isNovaCronError } from '../errors/index.ts';
import type { RecordedEvent } from '../eventstore/port.ts';
import { kafkaUnavailable } from './client.ts';
import { fromHeaders, toHeaders, type EventHeaders } from './headers.ts';
import type { RegistrySchemas } from './schemas.ts';
import { topicOf } from './topics.ts';

export interface EncodedEvent {
  topic: string;
  key: string;
  value: Buffer;
  headers: EventHeaders;
  /** Epoch milliseconds as a string (kafkajs's format): the event's recordedAt. */
  timestamp: string;
}

export interface EventSerde {
  readonly topicPrefix: string;
  topicOf(streamId: string): string;
  encode(event: RecordedEvent): Promise<EncodedEvent>;
  decode(message: { value: Buffer | null; headers?: IHeaders }): Promise<RecordedEvent>;
}

export interface EventSerdeOptions {
  schemas: RegistrySchemas;
  topicPrefix: string;
}

const MAGIC_BYTE = 0;

/** JSON-native copy of what avsc decoded (its records are class instances). */
const toPlain = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

export function createEventSerde({ schemas, topicPrefix }: EventSerdeOptions): EventSerde {
  const { registry, catalog } = schemas;
  const resolvers = new Map<string, Resolver>();

  async function readerFor(schemaId: number, type: string): Promise<{ reader: Type; resolver: Resolver }> {
    const reader = catalog.avroType(type);
    const key = `${schemaId}:${type}`;
    let resolver = resolvers.get(key);
    if (resolver === undefined) {
      let writer: Type;
      try {
        writer = (await registry.getSchema(schemaId)) as unknown as Type;
      } catch (error) {
        throw kafkaUnavailable(error, `fetching schema ${schemaId} from the registry`);
      }
      resolver = reader.createResolver(writer);
      resolvers.set(key, resolver);
    }
    return { reader, resolver };
  }

  return {
    topicPrefix,
    topicOf: (streamId) => topicOf(topicPrefix, streamId),

    async encode(event) {
      const topic = topicOf(topicPrefix, event.streamId);
      const schemaId = await schemas.idOf(topic, event.type, event.metadata.schemaVersion);
      let value: Buffer;
      try {
        value = await registry.encode(schemaId, event.data);
      } catch (error) {
        if (isNovaCronError(error)) throw error;
        const paths = (error as { paths?: unknown }).paths;
        throw new NovaCronError(
          'NC_EVENT_INVALID',
          `${event.type} at position ${event.position} does not match its schema version ${event.metadata.schemaVersion} (schema id ${schemaId}): ${error instanceof Error ? error.message : String(error)}`,
          { details: { type: event.type, position: event.position, schemaId, paths }, cause: error },
        );
      }
      return {
        topic,
        key: event.streamId,
        value,
        headers: toHeaders(event),
        timestamp: String(Date.parse(event.recordedAt)),
      };
    },

    async decode(message) {
      const meta = fromHeaders(message.headers);
      const value = message.value;
      if (value === null || value.length < 5 || value[0] !== MAGIC_BYTE) {
        throw new NovaCronError('NC_VALIDATION', `record of ${meta.streamId}@${meta.revision} is not in the Confluent wire format (magic byte 0, schema id, Avro)`, {
          details: { streamId: meta.streamId, revision: meta.revision },
        });
      }
      const { reader, resolver } = await readerFor(value.readInt32BE(1), meta.type);
      const data = toPlain(reader.fromBuffer(value.subarray(5), resolver));
      return { ...meta, data };
    },
  };
}
