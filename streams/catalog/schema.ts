/**
 * The JSON shape of the Avro schemas under schemas/avro, as far as NovaCron
 * uses them, plus the two attributes NovaCron adds: `version` on an event's
 * record and `personal` on a field.
 */

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

/** A primitive name, a reference to a named type, a union, or a complex type. */
export type AvroSchema =
  | string
  | AvroSchema[]
  | AvroRecordSchema
  | AvroEnumSchema
  | AvroArraySchema
  | AvroMapSchema
  | { type: AvroPrimitive; logicalType?: string };

export interface AvroField {
  name: string;
  type: AvroSchema;
  doc?: string;
  default?: unknown;
  /** Personal data: encrypted with the tenant's data key wherever the event travels. */
  personal?: boolean;
}

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: AvroField[];
}

export interface AvroEnumSchema {
  type: 'enum';
  name: string;
  namespace?: string;
  doc?: string;
  symbols: string[];
  default?: string;
}

export interface AvroArraySchema {
  type: 'array';
  items: AvroSchema;
}

export interface AvroMapSchema {
  type: 'map';
  values: AvroSchema;
}

/** The top-level record of an event schema file. */
export interface EventSchema extends AvroRecordSchema {
  namespace: string;
  /** Current version of the schema; each change that reaches the log bumps it. */
  version: number;
  doc: string;
}

export const isRecordSchema = (schema: AvroSchema): schema is AvroRecordSchema =>
  typeof schema === 'object' && !Array.isArray(schema) && schema.type === 'record';

/** Named types (records and enums) defined anywhere in `schema`, keyed by their short name. */
export function namedTypes(schema: AvroSchema, into = new Map<string, AvroRecordSchema | AvroEnumSchema>()) {
  if (Array.isArray(schema)) {
    for (const branch of schema) namedTypes(branch, into);
  } else if (typeof schema === 'object') {
    if (schema.type === 'record') {
      into.set(schema.name, schema);
      for (const field of schema.fields) namedTypes(field.type, into);
    } else if (schema.type === 'enum') {
      into.set(schema.name, schema);
    } else if (schema.type === 'array') {
      namedTypes(schema.items, into);
    } else if (schema.type === 'map') {
      namedTypes(schema.values, into);
    }
  }
  return into;
}

/** The short name of a (possibly fully qualified) type name: `novacron.events.VmSize` → `VmSize`. */
export const shortName = (name: string): string => name.slice(name.lastIndexOf('.') + 1);
