/**
 * The event schemas on the schema registry. Each (topic, event type) has its
 * own subject (TopicRecordNameStrategy, see `subjectOf`), whose compatibility
 * rule is set to BACKWARD explicitly, and which holds every version of the
 * type the catalog knows, registered oldest first (schemas/avro/history, then
 * the current one), so events written with an old version keep their schema
 * and stay decodable. Registering is idempotent: a version already under the
 * subject answers its existing id.
 */
import { relative } from 'node:path';
import { SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import type { Catalog } from '../catalog/index.ts';
import { EVENT_NAMESPACE } from '../catalog/index.ts';
import { NovaCronError } from '../errors/index.ts';
import { kafkaUnavailable } from './client.ts';
import { subjectOf, TOPIC_EVENT_TYPES, TOPIC_KEYS, topicName } from './topics.ts';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface RegisteredSubject {
  subject: string;
  type: string;
  /** Schema id of each catalog version of the type, by version. */
  ids: ReadonlyMap<number, number>;
}

export interface RegistrySchemas {
  readonly registry: SchemaRegistry;
  readonly catalog: Catalog;
  /** Base URL of the registry's Confluent API. */
  readonly url: string;
  /** Sets BACKWARD on the subject of (topic, type) and registers every version of the type (once per process). */
  ensure(topic: string, type: string): Promise<RegisteredSubject>;
  /** Schema id of `type` at `version` on `topic`'s subject, registering the subject first if needed. */
  idOf(topic: string, type: string, version: number): Promise<number>;
  /** Ensures the subject of every event type of every topic of `prefix` (TOPIC_EVENT_TYPES). */
  registerAll(prefix: string): Promise<RegisteredSubject[]>;
  /**
   * Asks the registry afresh (no cache) what each id of `subjects` resolves to, and
   * throws NC_SCHEMA_MISMATCH when one is unknown or resolves to another schema than
   * the catalog's version it stands for (a registry that lost its schemas and gave
   * their ids to others). Registry failures are NC_KAFKA_UNAVAILABLE (retriable).
   */
  verify(subjects: readonly RegisteredSubject[]): Promise<void>;
  /**
   * The same check for records already in Kafka (the relay's tails): each id must
   * resolve to the catalog's schema of the record's type header at its schemaVersion.
   */
  verifyRecords(records: ReadonlyArray<{ schemaId: number; type: string; schemaVersion: number; where: string }>): Promise<void>;
}

/** An Avro schema in avsc's canonical form (full names, types, fields; no doc, defaults or custom attributes), as JSON. */
export const canonicalSchema = (schema: unknown): string =>
  JSON.stringify(avsc.Type.forSchema(schema as Parameters<typeof avsc.Type.forSchema>[0], { wrapUnions: 'never' }).schema());

/**
 * The schema (as JSON text) the registry holds under `id`, asked afresh; null
 * when the registry does not know the id. Failures: NC_KAFKA_UNAVAILABLE.
 */
export async function fetchSchemaById(url: string, id: number): Promise<string | null> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}/schemas/ids/${id}`, { headers: { Accept: CONTENT_TYPE }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw kafkaUnavailable(error, `fetching schema ${id} from the registry`);
  }
  if (response.status === 404) return null;
  if (!response.ok) {
    throw new NovaCronError('NC_KAFKA_UNAVAILABLE', `fetching schema ${id} from the registry: it answered ${response.status}`, {
      retriable: true,
      details: { schemaId: id, status: response.status },
    });
  }
  const body = (await response.json().catch(() => ({}))) as { schema?: unknown };
  if (typeof body.schema !== 'string') {
    throw new NovaCronError('NC_KAFKA_UNAVAILABLE', `fetching schema ${id} from the registry: the answer holds no schema`, { retriable: true, details: { schemaId: id } });
  }
  return body.schema;
}

export interface RegistrySchemasOptions {
  registry: SchemaRegistry;
  /** Base URL of the registry's Confluent API, for the per-subject compatibility rule. */
  url: string;
  catalog: Catalog;
  /** Subjects registered at the same time by registerAll. */
  concurrency?: number;
}

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
};

export function createRegistrySchemas({ registry, url, catalog, concurrency = 8 }: RegistrySchemasOptions): RegistrySchemas {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('createRegistrySchemas: concurrency must be a positive integer');
  const base = url.replace(/\/+$/, '');
  const subjects = new Map<string, Promise<RegisteredSubject>>();

  const fileOf = (type: string, version: number): string => {
    const path = version === catalog.version(type) ? `${catalog.dir}/${type}.avsc` : `${catalog.dir}/history/${type}.v${version}.avsc`;
    return relative(process.cwd(), path.replace(/\/+/g, '/'));
  };

  /** The subject's own compatibility rule (not the global default), or null when it has none. */
  async function subjectCompatibility(subject: string): Promise<string | null> {
    let response: Response;
    try {
      response = await fetch(`${base}/config/${encodeURIComponent(subject)}`, { headers: { Accept: CONTENT_TYPE }, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw kafkaUnavailable(error, `reading the compatibility rule of subject ${subject}`);
    }
    if (response.status === 404) return null;
    if (!response.ok) {
      throw new NovaCronError('NC_KAFKA_UNAVAILABLE', `reading the compatibility rule of subject ${subject}: the registry answered ${response.status}`, {
        retriable: response.status >= 500 || response.status === 429,
        details: { subject, status: response.status },
      });
    }
    const body = (await response.json().catch(() => ({}))) as { compatibilityLevel?: unknown; compatibility?: unknown };
    const level = body.compatibilityLevel ?? body.compatibility;
    return typeof level === 'string' ? level.toUpperCase() : null;
  }

  async function setBackward(subject: string): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${base}/config/${encodeURIComponent(subject)}`, {
        method: 'PUT',
        headers: { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE },
        body: JSON.stringify({ compatibility: 'BACKWARD' }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw kafkaUnavailable(error, `setting compatibility BACKWARD on subject ${subject}`);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new NovaCronError('NC_KAFKA_UNAVAILABLE', `setting compatibility BACKWARD on subject ${subject}: the registry answered ${response.status} ${text.slice(0, 300)}`, {
        retriable: response.status >= 500 || response.status === 429,
        details: { subject, status: response.status },
      });
    }
  }

  /** The id of `schema` under `subject`, or null when the subject does not hold it. */
  async function lookup(subject: string, schema: string): Promise<number | null> {
    try {
      return await registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema });
    } catch (error) {
      const status = statusOf(error) ?? statusOf((error as { cause?: unknown } | null)?.cause);
      if (status === 404 || /does not match any schema|not found/i.test(error instanceof Error ? error.message : '')) return null;
      throw kafkaUnavailable(error, `looking up a schema under subject ${subject}`);
    }
  }

  async function register(subject: string, type: string, version: number): Promise<number> {
    const schema = JSON.stringify(catalog.schema(type, version));
    // Usually already there (every relay start checks): one lookup instead of a registration.
    const known = await lookup(subject, schema);
    if (known !== null) return known;
    try {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
      return id;
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 || status === 422) {
        const reason = error instanceof Error ? error.message.replace(/^\S+ - /, '') : String(error);
        throw new NovaCronError(
          'NC_SCHEMA_INCOMPATIBLE',
          `schema ${EVENT_NAMESPACE}.${type} version ${version} (${fileOf(type, version)}) was refused by the schema registry for subject ${subject}: ` +
            `${status === 409 ? 'not BACKWARD compatible with the versions it holds' : 'not a valid schema'} (${reason}). ` +
            'Change a schema only in ways BACKWARD accepts (add a field with a default, drop a field) and keep the old version in schemas/avro/history/.',
          { details: { type, version, subject, status }, cause: error },
        );
      }
      throw kafkaUnavailable(error, `registering ${type} version ${version} under subject ${subject}`);
    }
  }

  async function verifyOne(subject: string, type: string, version: number, id: number, record?: string): Promise<void> {
    const text = await fetchSchemaById(base, id);
    const expected = catalog.has(type) && catalog.versions(type).includes(version) ? JSON.stringify(catalog.avroType(type, version).schema()) : null;
    let found: string | null = null;
    let name: string | null = null;
    if (text !== null) {
      try {
        const parsed: unknown = JSON.parse(text);
        found = canonicalSchema(parsed);
        const n = (parsed as { name?: unknown; namespace?: unknown } | null) ?? {};
        name = typeof n.name === 'string' ? (typeof n.namespace === 'string' && !n.name.includes('.') ? `${n.namespace}.${n.name}` : n.name) : null;
      } catch {
        found = null;
      }
    }
    if (found === expected) return;
    // A record of a type or version this catalog does not hold: its name is all that can be checked.
    if (expected === null && record !== undefined && name === `${EVENT_NAMESPACE}.${type}`) return;
    throw new NovaCronError(
      'NC_SCHEMA_MISMATCH',
      `schema id ${id}, ${record === undefined ? 'used' : `carried by ${record}`} for ${EVENT_NAMESPACE}.${type} version ${version}${record === undefined ? ` on subject ${subject}` : ''}, ` +
        (text === null ? 'is unknown to the schema registry' : `resolves to ${name ?? 'another schema'}${name === `${EVENT_NAMESPACE}.${type}` ? ' with other fields' : ''}`) +
        ': the registry lost or reassigned its schemas (run it with persistent storage, see infra/local/README.md). ' +
        'Records written with this id would decode as another type; refusing to use it.',
      { details: { subject, type, version, schemaId: id, found: name, record: record ?? null } },
    );
  }

  const schemas: RegistrySchemas = {
    registry,
    catalog,
    url: base,
    ensure(topic, type) {
      const subject = subjectOf(topic, type);
      let pending = subjects.get(subject);
      if (pending === undefined) {
        pending = (async () => {
          const versions = catalog.versions(type); // throws NC_EVENT_TYPE_UNKNOWN first
          if ((await subjectCompatibility(subject)) !== 'BACKWARD') await setBackward(subject);
          const ids = new Map<number, number>();
          for (const version of versions) ids.set(version, await register(subject, type, version));
          return { subject, type, ids };
        })();
        subjects.set(subject, pending);
        // A failure is not remembered: the next call tries again.
        pending.catch(() => subjects.delete(subject));
      }
      return pending;
    },
    async idOf(topic, type, version) {
      const { ids, subject } = await schemas.ensure(topic, type);
      const id = ids.get(version);
      if (id === undefined) {
        throw new NovaCronError('NC_EVENT_INVALID', `${type} was written with schema version ${version}, which the catalog does not hold (subject ${subject} has ${[...ids.keys()].join(', ')})`, {
          details: { type, version, subject },
        });
      }
      return id;
    },
    async registerAll(prefix) {
      const work = TOPIC_KEYS.flatMap((key) => TOPIC_EVENT_TYPES[key].map((type) => ({ topic: topicName(prefix, key), type })));
      const results: RegisteredSubject[] = new Array(work.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < work.length) {
          const index = next++;
          const item = work[index] as (typeof work)[number];
          results[index] = await schemas.ensure(item.topic, item.type);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
      return results;
    },
    async verify(subjects) {
      const work = subjects.flatMap(({ subject, type, ids }) => [...ids].map(([version, id]) => ({ subject, type, version, id })));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < work.length) {
          const item = work[next++] as (typeof work)[number];
          await verifyOne(item.subject, item.type, item.version, item.id);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
    },
    async verifyRecords(records) {
      for (const { schemaId, type, schemaVersion, where } of records) await verifyOne('', type, schemaVersion, schemaId, where);
    },
  };
  return schemas;
}
