/**
 * Personal fields: which paths of an event hold personal data, and how to
 * rewrite the strings found there (encrypt, decrypt) without touching the rest.
 *
 * A path is a chain of field names through nested records (`owner.email`);
 * a field that is an array of strings ends in `[]` (`sshPublicKeys[]`).
 */
import {
  isRecordSchema,
  namedTypes,
  shortName,
  type AvroRecordSchema,
  type AvroSchema,
  type EventSchema,
} from './schema.ts';

type Named = ReturnType<typeof namedTypes>;

/** `string` / `["null","string"]` → 'string'; array of string → 'array'; anything else → null. */
function personalKind(type: AvroSchema): 'string' | 'array' | null {
  if (type === 'string') return 'string';
  if (Array.isArray(type)) {
    return type.length === 2 && type[0] === 'null' && type[1] === 'string' ? 'string' : null;
  }
  if (typeof type === 'object' && type.type === 'array' && type.items === 'string') return 'array';
  return null;
}

/** The record a field leads into, directly or as the non-null branch of an optional. */
function recordOf(type: AvroSchema, named: Named): AvroRecordSchema | null {
  if (typeof type === 'string') {
    const found = named.get(shortName(type));
    return found !== undefined && isRecordSchema(found) ? found : null;
  }
  if (Array.isArray(type)) {
    const branches = type.filter((branch) => branch !== 'null');
    return branches.length === 1 && branches[0] !== undefined ? recordOf(branches[0], named) : null;
  }
  return isRecordSchema(type) ? type : null;
}

/**
 * The personal paths of an event schema. Throws when a field is marked
 * personal but is not a string, an optional string or an array of strings,
 * or sits where no path can reach it (inside an array or a map of records).
 */
export function personalPaths(schema: EventSchema): string[] {
  const named = namedTypes(schema);
  const paths: string[] = [];
  const reached = new Set<string>();
  const walk = (record: AvroRecordSchema, prefix: string, visiting: ReadonlySet<string>): void => {
    if (visiting.has(record.name)) return;
    const inside = new Set(visiting).add(record.name);
    for (const field of record.fields) {
      const path = prefix + field.name;
      if (field.personal === true) {
        const kind = personalKind(field.type);
        if (kind === null) {
          throw new Error(
            `${schema.name}: personal field ${path} must be a string, ["null","string"] or an array of strings`,
          );
        }
        paths.push(kind === 'array' ? `${path}[]` : path);
        reached.add(`${record.name}.${field.name}`);
        continue;
      }
      const inner = recordOf(field.type, named);
      if (inner !== null) walk(inner, `${path}.`, inside);
    }
  };
  walk(schema, '', new Set());

  for (const type of named.values()) {
    if (!isRecordSchema(type)) continue;
    for (const field of type.fields) {
      if (field.personal !== undefined && typeof field.personal !== 'boolean') {
        throw new Error(`${schema.name}: attribute "personal" of ${type.name}.${field.name} must be a boolean`);
      }
      if (field.personal === true && !reached.has(`${type.name}.${field.name}`)) {
        throw new Error(
          `${schema.name}: personal field ${type.name}.${field.name} is inside an array or a map; only records reached through record fields may hold personal fields`,
        );
      }
    }
  }
  return paths;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function mapPath(
  data: Record<string, unknown>,
  segments: readonly string[],
  fn: (value: string) => string,
): Record<string, unknown> {
  const [head, ...rest] = segments;
  if (head === undefined) return data;
  const isArray = head.endsWith('[]');
  const key = isArray ? head.slice(0, -2) : head;
  const value = data[key];
  let next = value;
  if (rest.length > 0) {
    if (isPlainObject(value)) next = mapPath(value, rest, fn);
  } else if (isArray) {
    if (Array.isArray(value)) next = value.map((item: unknown) => (typeof item === 'string' ? fn(item) : item));
  } else if (typeof value === 'string') {
    next = fn(value);
  }
  return next === value ? data : { ...data, [key]: next };
}

/**
 * Rewrites every string found at `paths` with `fn`; null, missing or
 * mistyped values are left alone. Copies what it changes, never mutates `data`.
 */
export function mapPersonal(
  data: Record<string, unknown>,
  paths: readonly string[],
  fn: (value: string, path: string) => string,
): Record<string, unknown> {
  let out = data;
  for (const path of paths) out = mapPath(out, path.split('.'), (value) => fn(value, path));
  return out;
}
