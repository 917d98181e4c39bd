/**
 * Input checks run inside `decide`: the HTTP layer validates shapes too, but
 * the decider is the last line. Every failure is NC_VALIDATION with
 * `details.field` naming the field (dotted path). Text values are never echoed
 * back in details: they may be personal data.
 */
import { NovaCronError } from '../../streams/errors/index.ts';

/** Largest value an Avro `int` holds: every integer field of the catalog is one. */
export const INT_MAX = 2_147_483_647;

export const invalid = (field: string, message: string, details: Record<string, unknown> = {}) =>
  new NovaCronError('NC_VALIDATION', `${field} ${message}`, { details: { field, ...details } });

export function requireInt(field: string, value: unknown, { min = 0, max = INT_MAX }: { min?: number; max?: number } = {}): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}`, { value, min, max });
  }
  return value;
}

export function requireNumber(field: string, value: unknown, { min = -Infinity, max = Infinity }: { min?: number; max?: number } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(field, `must be a finite number from ${min} to ${max}`, { value, min, max });
  }
  return value;
}

/** Non-blank text of at most `maxLength` characters. */
export function requireText(field: string, value: unknown, { maxLength = 255 }: { maxLength?: number } = {}): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    throw invalid(field, `must be non-blank text of at most ${maxLength} characters`, { maxLength });
  }
  return value;
}

export function optionalText(field: string, value: unknown, options?: { maxLength?: number }): string | null {
  return value === undefined || value === null ? null : requireText(field, value, options);
}

export function requireBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

export function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw invalid(field, `must be one of ${allowed.join(', ')}`, { value, allowed });
  return value as T;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 instant with a zone, e.g. 2025-01-01T12:00:00Z; returns its epoch milliseconds. */
export function requireInstant(field: string, value: unknown): number {
  const millis = typeof value === 'string' && ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(millis)) throw invalid(field, 'must be an ISO-8601 instant such as 2025-01-01T12:00:00Z');
  return millis;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function requireEmail(field: string, value: unknown): string {
  const text = requireText(field, value, { maxLength: 254 });
  if (!EMAIL.test(text)) throw invalid(field, 'must be an e-mail address');
  return text;
}

/** A list of distinct non-blank strings. */
export function requireTextList(field: string, value: unknown, { minItems = 0, maxItems = 1000, maxLength = 255 } = {}): string[] {
  if (!Array.isArray(value) || value.length < minItems || value.length > maxItems) {
    throw invalid(field, `must be a list of ${minItems} to ${maxItems} items`, { minItems, maxItems });
  }
  value.forEach((item, index) => requireText(`${field}[${index}]`, item, { maxLength }));
  if (new Set(value).size !== value.length) throw invalid(field, 'must not repeat an item');
  return value as string[];
}

/** Free-form string labels: non-blank keys of at most 63 characters, string values. */
export function requireLabels(field: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'must be an object of string labels');
  for (const [key, label] of Object.entries(value)) {
    requireText(`${field} key`, key, { maxLength: 63 });
    if (typeof label !== 'string' || label.length > 255) throw invalid(`${field}.${key}`, 'must be text of at most 255 characters');
  }
  return value as Record<string, string>;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** An entity or reservation id: usable in a stream id `<category>-<id>` (A-Za-z0-9._:@-, at most 128 characters). */
export function requireId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 128 || !ID.test(value)) {
    throw invalid(field, 'must be an id of at most 128 characters from A-Za-z0-9._:@- starting with a letter or digit');
  }
  return value;
}

/** A list of distinct ids. */
export function requireIdList(field: string, value: unknown, { minItems = 0, maxItems = 1000 } = {}): string[] {
  if (!Array.isArray(value) || value.length < minItems || value.length > maxItems) {
    throw invalid(field, `must be a list of ${minItems} to ${maxItems} ids`, { minItems, maxItems });
  }
  value.forEach((item, index) => requireId(`${field}[${index}]`, item));
  if (new Set(value).size !== value.length) throw invalid(field, 'must not repeat an id');
  return [...(value as string[])];
}

/**
 * Closes a switch over a field's values: compile-time exhaustiveness, NC_VALIDATION
 * at run time. `value` is the field's value, or the object holding it.
 */
export function unexpected(field: string, value: never): never {
  const held: unknown = value;
  const shown = typeof held === 'object' && held !== null && field in held ? (held as Record<string, unknown>)[field] : held;
  throw invalid(field, 'has an unexpected value', { value: shown });
}
