import type { FastifySchemaValidationError } from 'fastify';

/** One invalid field: a dotted path (`quota.vcpus`, `items.0`; '' for the whole part) and why. */
export interface FieldError {
  field: string;
  message: string;
}

export interface ValidationDetails {
  /** The request part that failed: body, querystring, params or headers. */
  location: string;
  /** The first invalid field, as in every NC_VALIDATION (the deciders' too). */
  field: string;
  errors: FieldError[];
}

const MAX_ERRORS = 20;

const dotted = (instancePath: string, child?: string): string =>
  [...instancePath.split('/').slice(1), ...(child === undefined ? [] : [child])]
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' ? [value] : [];

/**
 * Turns the validator's errors (TypeBox's, or Ajv's if a route brings its own)
 * into field errors: one per missing or unexpected property, one per other
 * invalid field, union branches folded into "must be one of …". Values sent
 * by the client are never echoed (they may be personal data).
 */
export function validationDetails(location: string, errors: readonly FastifySchemaValidationError[]): ValidationDetails {
  const byField = new Map<string, FastifySchemaValidationError[]>();
  const fieldErrors: FieldError[] = [];
  for (const error of errors) {
    const params: Record<string, unknown> = error.params;
    if (error.keyword === 'required') {
      for (const name of [...stringList(params.requiredProperties), ...stringList(params.missingProperty)]) {
        fieldErrors.push({ field: dotted(error.instancePath, name), message: 'is required' });
      }
    } else if (error.keyword === 'additionalProperties') {
      for (const name of [...stringList(params.additionalProperties), ...stringList(params.additionalProperty)]) {
        fieldErrors.push({ field: dotted(error.instancePath, name), message: 'is not allowed' });
      }
    } else if (error.keyword === 'boolean' && error.schemaPath.endsWith('/additionalProperties')) {
      // TypeBox reports an unexpected property twice; the additionalProperties entry covers it.
    } else {
      const field = dotted(error.instancePath);
      byField.set(field, [...(byField.get(field) ?? []), error]);
    }
  }
  for (const [field, group] of byField) {
    const allowed = group.flatMap((error) => (error.keyword === 'const' ? [error.params.allowedValue] : []));
    const enumValues = group.flatMap((error) => (error.keyword === 'enum' && Array.isArray(error.params.allowedValues) ? error.params.allowedValues : []));
    const choices = [...allowed, ...enumValues];
    if (choices.length > 0) {
      fieldErrors.push({ field, message: `must be one of ${choices.map((value) => JSON.stringify(value)).join(', ')}` });
      continue;
    }
    const first = group.find((error) => error.keyword !== 'anyOf' && error.keyword !== 'oneOf') ?? group[0];
    if (first !== undefined) fieldErrors.push({ field, message: first.message ?? 'is invalid' });
  }
  const listed = fieldErrors.slice(0, MAX_ERRORS);
  return { location, field: listed[0]?.field ?? '', errors: listed };
}

/** "body.quota.vcpus must be integer": the first error, in words. */
export function validationMessage(details: ValidationDetails): string {
  const first = details.errors[0];
  if (first === undefined) return `${details.location} is invalid`;
  const where = first.field === '' ? details.location : `${details.location}.${first.field}`;
  const more = details.errors.length > 1 ? ` (and ${details.errors.length - 1} more)` : '';
  return `${where} ${first.message}${more}`;
}
