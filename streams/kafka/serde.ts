/**
 * Events on Kafka: key = stream id, value = the event's data in Avro with the
 * Confluent wire format (magic byte 0, 4-byte schema id, Avro body), headers =
 * the rest of the event (see headers.ts), timestamp = when the store recorded it.
 *
 * `encode` takes an event as stored (read with `raw: true`): personal fields
 * still encrypted, data in the shape of the schema version it was written with,
 * which is the writer schema it is encoded with (locally, with the catalog's
 * schema that the id was verified to stand for). `decode` reads the writer
 * schema from the registry by the id in the value and resolves the data to the
 * catalog's current schema (Avro schema resolution: defaults fill new fields).
 */
import type { IHeaders } from 'kafkajs';
import type { Resolver, Type } from 'avsc';
import { EVENT_NAMESPACE } from '../catalog/index.ts';
import { NovaCronError } from '../errors/index.ts';
import type { RecordedEvent } from '../eventstore/port.ts';
import { kafkaUnavailable } from './client.ts';
import { fromHeaders, toHeaders, type EventHeaders } from './headers.ts';
import type { RegistrySchemas } from './schemas.ts';
import { subjectOf, topicOf } from './topics.ts';

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
  /**
   * The event of a record. Before anything is decoded, the writer schema the
   * record's id resolves to must be the one its headers name: record full name
   * `novacron.events.<type header>`, the catalog's schema of that type at the
   * `schemaVersion` header (when the catalog holds it), and, given the topic the
   * record was read from, an id registered under that topic's subject for the
   * type. Otherwise NC_SCHEMA_MISMATCH (not retriable: consumers park the record).
   */
  decode(message: { value: Buffer | null; headers?: IHeaders }, topic?: string): Promise<RecordedEvent>;
}

export interface EventSerdeOptions {
  schemas: RegistrySchemas;
  topicPrefix: string;
}

const MAGIC_BYTE = 0;

/** JSON-native copy of what avsc decoded (its records are class instances). */
const toPlain = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export function createEventSerde({ schemas, topicPrefix }: EventSerdeOptions): EventSerde {
  const { registry, catalog, url } = schemas;
  const resolvers = new Map<string, Resolver>();
  /** (id, type, version, topic) found consistent: checked once per process. */
  const checked = new Set<string>();
  /** Subjects each id is registered under, as last read (re-read once before a mismatch is declared). */
  const subjectsById = new Map<number, readonly string[]>();

  async function writerOf(schemaId: number): Promise<Type> {
    try {
      return (await registry.getSchema(schemaId)) as unknown as Type;
    } catch (error) {
      throw kafkaUnavailable(error, `fetching schema ${schemaId} from the registry`);
    }
  }

  async function subjectsOf(schemaId: number, fresh: boolean): Promise<readonly string[]> {
    const known = subjectsById.get(schemaId);
    if (known !== undefined && !fresh) return known;
    let response: Response;
    try {
      response = await fetch(`${url}/schemas/ids/${schemaId}/subjects`, { headers: { Accept: CONTENT_TYPE }, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw kafkaUnavailable(error, `reading the subjects of schema ${schemaId}`);
    }
    if (response.status === 404) return [];
    if (!response.ok) {
      throw new NovaCronError('NC_KAFKA_UNAVAILABLE', `reading the subjects of schema ${schemaId}: the registry answered ${response.status}`, {
        retriable: true,
        details: { schemaId, status: response.status },
      });
    }
    const body: unknown = await response.json().catch(() => null);
    const subjects = Array.isArray(body) ? body.filter((s): s is string => typeof s === 'string') : [];
    subjectsById.set(schemaId, subjects);
    return subjects;
  }

  /** Throws NC_SCHEMA_MISMATCH unless schema `schemaId` is the one the record's headers name. */
  async function check(schemaId: number, writer: Type, meta: Omit<RecordedEvent, 'data'>, topic: string | undefined): Promise<void> {
    const version = meta.metadata.schemaVersion;
    const key = `${schemaId}\u0000${meta.type}\u0000${version}\u0000${topic ?? ''}`;
    if (checked.has(key)) return;
    const expectedName = `${EVENT_NAMESPACE}.${meta.type}`;
    const mismatch = (reason: string) =>
      new NovaCronError(
        'NC_SCHEMA_MISMATCH',
        `record of ${meta.streamId}@${meta.revision}${topic === undefined ? '' : ` on ${topic}`} (position ${meta.position}) has type header ${meta.type} but schema id ${schemaId} ${reason}: not applied`,
        { details: { topic: topic ?? null, streamId: meta.streamId, revision: meta.revision, position: meta.position, type: meta.type, schemaVersion: version, schemaId, writer: writer.name ?? null } },
      );
    if (writer.name !== expectedName) throw mismatch(`resolves to ${writer.name ?? 'an unnamed schema'}`);
    if (catalog.versions(meta.type).includes(version) && JSON.stringify(writer.schema()) !== JSON.stringify(catalog.avroType(meta.type, version).schema())) {
      throw mismatch(`resolves to another schema than ${expectedName} version ${version}`);
    }
    if (topic !== undefined) {
      const subject = subjectOf(topic, meta.type);
      if (!(await subjectsOf(schemaId, false)).includes(subject) && !(await subjectsOf(schemaId, true)).includes(subject)) {
        throw mismatch(`is not registered under the topic's subject ${subject}`);
      }
    }
    checked.add(key);
  }

  async function readerFor(schemaId: number, writer: Type, type: string): Promise<{ reader: Type; resolver: Resolver }> {
    const reader = catalog.avroType(type);
    const key = `${schemaId}:${type}`;
    let resolver = resolvers.get(key);
    if (resolver === undefined) {
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
      const version = event.metadata.schemaVersion;
      // The id was checked (schemas.verify, at every relay session's start) to resolve to
      // exactly this catalog schema, so the body is written locally with it: a running
      // relay needs no registry round trip per record and rides out a registry restart.
      const schemaId = await schemas.idOf(topic, event.type, version);
      const type = catalog.avroType(event.type, version);
      const paths: string[] = [];
      if (!type.isValid(event.data, { errorHook: (path) => paths.push(path.join('.')) })) {
        throw new NovaCronError(
          'NC_EVENT_INVALID',
          `${event.type} at position ${event.position} does not match its schema version ${version} (schema id ${schemaId}) at ${paths.map((p) => p || '(event)').join(', ')}`,
          { details: { type: event.type, position: event.position, schemaId, paths } },
        );
      }
      const header = Buffer.alloc(5);
      header[0] = MAGIC_BYTE;
      header.writeInt32BE(schemaId, 1);
      return {
        topic,
        key: event.streamId,
        value: Buffer.concat([header, type.toBuffer(event.data)]),
        headers: toHeaders(event),
        timestamp: String(Date.parse(event.recordedAt)),
      };
    },

    async decode(message, topic) {
      const meta = fromHeaders(message.headers);
      const value = message.value;
      if (value === null || value.length < 5 || value[0] !== MAGIC_BYTE) {
        throw new NovaCronError('NC_VALIDATION', `record of ${meta.streamId}@${meta.revision} is not in the Confluent wire format (magic byte 0, schema id, Avro)`, {
          details: { streamId: meta.streamId, revision: meta.revision },
        });
      }
      const schemaId = value.readInt32BE(1);
      const writer = await writerOf(schemaId);
      await check(schemaId, writer, meta, topic);
      const { reader, resolver } = await readerFor(schemaId, writer, meta.type);
      const data = toPlain(reader.fromBuffer(value.subarray(5), resolver));
      return { ...meta, data };
    },
  };
}
