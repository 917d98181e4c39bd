/**
 * Checks a value against an avsc type and lists every problem with its path,
 * instead of avsc's bare `false`.
 */
import type { Type } from 'avsc';

export interface ValidationIssue {
  /** Where the problem is: `spec.vcpus`, `sshPublicKeys[1]`, `labels.env`; '' for the event itself. */
  path: string;
  message: string;
}

interface AvscRecordType {
  typeName: string;
  fields: readonly { name: string }[];
  isValid: Type['isValid'];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Formats avsc's path segments by walking the value: array indexes as `[i]`, keys as `.key`. */
function formatPath(root: unknown, segments: readonly string[]): string {
  let out = '';
  let current: unknown = root;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      out += `[${segment}]`;
      current = current[Number(segment)];
    } else {
      out += out === '' ? segment : `.${segment}`;
      current = isPlainObject(current) ? current[segment] : undefined;
    }
  }
  return out;
}

function describeType(type: Type): string {
  const union = (type as { types?: readonly Type[] }).types;
  if (type.typeName.startsWith('union') && union !== undefined) return union.map(describeType).join(' | ');
  const symbols = (type as { symbols?: readonly string[] }).symbols;
  if (type.typeName === 'enum' && symbols !== undefined) return `one of ${symbols.join(', ')}`;
  if (type.typeName === 'record' && type.name !== undefined) return `record ${type.name.slice(type.name.lastIndexOf('.') + 1)}`;
  return type.typeName;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function findNonFinite(value: unknown, path: string[], issues: ValidationIssue[], root: unknown): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    issues.push({ path: formatPath(root, path), message: `expected a finite number, got ${value}` });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => findNonFinite(item, [...path, String(index)], issues, root));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) findNonFinite(item, [...path, key], issues, root);
  }
}

/**
 * Every way `value` fails to match `type`: wrong types, missing fields,
 * undeclared fields, and numbers JSON cannot carry (NaN, ±Infinity). [] when it matches.
 */
export function validationIssues(type: Type, value: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!isPlainObject(value)) {
    return [{ path: '', message: `expected an object, got ${describeValue(value)}` }];
  }
  const check = (checked: Type, data: unknown, prefix: readonly string[]): void => {
    checked.isValid(data, {
      noUndeclaredFields: true,
      errorHook: (segments, found, failing) => {
        const path = [...prefix, ...segments];
        if (failing.typeName === 'record' && isPlainObject(found)) {
          // avsc stops at a record with undeclared fields: name them, then check the declared rest.
          const record = failing as unknown as AvscRecordType;
          const declared = new Set(record.fields.map((field) => field.name));
          const rest: Record<string, unknown> = {};
          for (const [key, item] of Object.entries(found)) {
            if (declared.has(key)) rest[key] = item;
            else issues.push({ path: formatPath(value, [...path, key]), message: 'undeclared field' });
          }
          check(failing, rest, path);
          return;
        }
        issues.push({
          path: formatPath(value, path),
          message:
            found === undefined ? 'missing required field' : `expected ${describeType(failing)}, got ${describeValue(found)}`,
        });
      },
    });
  };
  check(type, value, []);
  // avsc takes NaN for a double, but the event store keeps JSON, which cannot carry it.
  if (issues.length === 0) findNonFinite(value, [], issues, value);
  return issues;
}
