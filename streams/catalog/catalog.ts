/**
 * The event catalog: every event type NovaCron records, loaded from the Avro
 * schemas under schemas/avro (current versions) and schemas/avro/history
 * (`<Type>.v<N>.avsc`, older versions kept for schema resolution).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avsc from 'avsc';
import type { Type } from 'avsc';
import { NovaCronError } from '../errors/index.ts';
import { personalPaths } from './personal.ts';
import type { EventSchema } from './schema.ts';
import { validationIssues } from './validate.ts';

export const EVENT_NAMESPACE = 'novacron.events';

/** schemas/avro of this checkout, found from this file rather than the working directory. */
export const defaultSchemasDir = fileURLToPath(new URL('../../schemas/avro/', import.meta.url));

export interface Catalog {
  /** The schemas directory the catalog was loaded from. */
  readonly dir: string;
  /** Event type names, sorted. */
  readonly types: readonly string[];
  has(type: string): boolean;
  /** Current schema version of `type`. */
  version(type: string): number;
  /** Every schema version of `type` the catalog holds, ascending. */
  versions(type: string): readonly number[];
  /** The schema JSON as written in its .avsc file (current version unless given). */
  schema(type: string, version?: number): EventSchema;
  avroType(type: string, version?: number): Type;
  /** Paths of personal fields (`contactEmail`, `sshPublicKeys[]`), current version unless given. */
  personalFields(type: string, version?: number): readonly string[];
  /**
   * Throws NC_EVENT_TYPE_UNKNOWN for a type not in the catalog, NC_EVENT_INVALID
   * (details `{ type, errors: [{ path, message }] }`) for data that does not
   * match the schema, undeclared fields included. Fields with a default may be omitted.
   */
  validate(type: string, data: unknown, version?: number): void;
  /** Validates like `validate`, then returns a plain copy with omitted fields set to their defaults. */
  normalize(type: string, data: unknown): Record<string, unknown>;
  /** Reads data written with an older schema version as the current one (Avro schema resolution; fills defaults). */
  upcast(type: string, data: Record<string, unknown>, fromVersion: number): Record<string, unknown>;
}

interface VersionEntry {
  schema: EventSchema;
  avroType: Type;
  personal: readonly string[];
}

const HISTORY_FILE = /^([A-Za-z][A-Za-z0-9_]*)\.v([1-9][0-9]*)\.avsc$/;

function readSchema(file: string): EventSchema {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid JSON`, { cause: error });
  }
  const schema = json as Partial<EventSchema> | null;
  if (typeof schema !== 'object' || schema === null || schema.type !== 'record' || typeof schema.name !== 'string') {
    throw new Error(`${file}: an event schema must be a record with a name`);
  }
  if (schema.namespace !== EVENT_NAMESPACE) throw new Error(`${file}: namespace must be ${EVENT_NAMESPACE}`);
  if (!Number.isInteger(schema.version) || (schema.version ?? 0) < 1) {
    throw new Error(`${file}: attribute "version" must be an integer ≥ 1`);
  }
  if (typeof schema.doc !== 'string' || schema.doc === '') throw new Error(`${file}: attribute "doc" is missing`);
  return schema as EventSchema;
}

function loadEntry(file: string): VersionEntry {
  const schema = readSchema(file);
  let avroType: Type;
  try {
    // Each file is self-contained: forSchema gets a fresh registry of names.
    avroType = avsc.Type.forSchema(schema as Parameters<typeof avsc.Type.forSchema>[0], { wrapUnions: 'never' });
  } catch (error) {
    throw new Error(`${file}: not a valid Avro schema: ${(error as Error).message}`, { cause: error });
  }
  return { schema, avroType, personal: personalPaths(schema) };
}

/** JSON-native copy of what avsc decoded (its records are class instances). */
const toPlain = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

const invalid = (type: string, errors: { path: string; message: string }[], extra: Record<string, unknown> = {}) =>
  new NovaCronError(
    'NC_EVENT_INVALID',
    `${type} does not match its schema: ${errors.map((e) => `${e.path || '(event)'}: ${e.message}`).join('; ')}`,
    { details: { type, ...extra, errors } },
  );

/** Loads every schema of `dir` (and `dir/history`). Synchronous; throws on a malformed catalog. */
export function loadCatalog(dir: string = defaultSchemasDir): Catalog {
  const entries = new Map<string, { current: number; byVersion: Map<number, VersionEntry> }>();
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.avsc')).sort()) {
    const file = join(dir, name);
    const entry = loadEntry(file);
    if (entry.schema.name !== basename(name, '.avsc')) {
      throw new Error(`${file}: record name ${entry.schema.name} must match the file name`);
    }
    entries.set(entry.schema.name, { current: entry.schema.version, byVersion: new Map([[entry.schema.version, entry]]) });
  }

  const historyDir = join(dir, 'history');
  if (existsSync(historyDir)) {
    for (const name of readdirSync(historyDir).sort()) {
      const file = join(historyDir, name);
      const match = HISTORY_FILE.exec(name);
      if (match === null) throw new Error(`${file}: history files are named <Type>.v<N>.avsc`);
      const [, type = '', version = ''] = match;
      const owner = entries.get(type);
      if (owner === undefined) throw new Error(`${file}: no current schema ${type}.avsc`);
      const entry = loadEntry(file);
      if (entry.schema.name !== type || entry.schema.version !== Number(version)) {
        throw new Error(`${file}: must hold record ${type} with "version": ${version}`);
      }
      if (entry.schema.version >= owner.current) {
        throw new Error(`${file}: version ${version} is not older than the current version ${owner.current}`);
      }
      owner.byVersion.set(entry.schema.version, entry);
    }
  }

  const types = [...entries.keys()].sort();
  const resolvers = new Map<string, ReturnType<Type['createResolver']>>();

  const entryOf = (type: string) => {
    const entry = entries.get(type);
    if (entry === undefined) {
      throw new NovaCronError('NC_EVENT_TYPE_UNKNOWN', `Unknown event type ${JSON.stringify(type)}`, {
        details: { type },
      });
    }
    return entry;
  };
  const at = (type: string, version?: number): VersionEntry => {
    const entry = entryOf(type);
    const found = entry.byVersion.get(version ?? entry.current);
    if (found === undefined) {
      const known = [...entry.byVersion.keys()].sort((a, b) => a - b);
      throw invalid(type, [{ path: '', message: `no schema version ${version} (known: ${known.join(', ')})` }], {
        version,
      });
    }
    return found;
  };

  const catalog: Catalog = {
    dir,
    types,
    has: (type) => entries.has(type),
    version: (type) => entryOf(type).current,
    versions: (type) => [...entryOf(type).byVersion.keys()].sort((a, b) => a - b),
    schema: (type, version) => at(type, version).schema,
    avroType: (type, version) => at(type, version).avroType,
    personalFields: (type, version) => at(type, version).personal,
    validate(type, data, version) {
      const entry = at(type, version);
      const errors = validationIssues(entry.avroType, data);
      if (errors.length > 0) {
        throw invalid(type, errors, version === undefined || version === entryOf(type).current ? {} : { version });
      }
    },
    normalize(type, data) {
      catalog.validate(type, data);
      return toPlain(at(type).avroType.clone(data));
    },
    upcast(type, data, fromVersion) {
      const current = entryOf(type).current;
      if (fromVersion === current) return data;
      if (fromVersion > current) {
        throw invalid(type, [{ path: '', message: `written with schema version ${fromVersion}, newer than ${current}` }], {
          version: fromVersion,
        });
      }
      const old = at(type, fromVersion).avroType;
      catalog.validate(type, data, fromVersion);
      const key = `${type}@${fromVersion}`;
      let resolver = resolvers.get(key);
      if (resolver === undefined) {
        resolver = at(type).avroType.createResolver(old);
        resolvers.set(key, resolver);
      }
      return toPlain(at(type).avroType.fromBuffer(old.toBuffer(data), resolver));
    },
  };
  return catalog;
}

let loaded: Catalog | undefined;

/** The catalog of schemas/avro, loaded on first use and shared. */
export function defaultCatalog(): Catalog {
  loaded ??= loadCatalog();
  return loaded;
}
