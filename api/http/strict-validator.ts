import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';

type Compiler = typeof TypeBoxValidatorCompiler;

const STRICT: Record<string, RegExp> = {
  integer: /^-?(0|[1-9]\d*)$/,
  number: /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/,
  boolean: /^(true|false)$/,
};

/**
 * TypeBox's validator compiler, but strict about querystring, params and
 * headers: TypeBox converts `limit=1.5` or `limit=true` to the integer 1, so a
 * value whose text is not exactly an integer, number or boolean (for such a
 * property) is handed over unconverted and refused by the schema.
 */
export const strictValidatorCompiler: Compiler = (route) => {
  const validate = TypeBoxValidatorCompiler(route);
  if (route.httpPart === 'body') return validate;
  const properties = (route.schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const strict = Object.entries(properties).flatMap(([name, property]) => {
    const pattern = typeof property.type === 'string' ? STRICT[property.type] : undefined;
    return pattern === undefined ? [] : [{ name, pattern }];
  });
  if (strict.length === 0) return validate;
  return (value: unknown) => {
    if (typeof value !== 'object' || value === null) return validate(value);
    const raw = value as Record<string, unknown>;
    const bad = strict.filter(({ name, pattern }) => typeof raw[name] === 'string' && !pattern.test(raw[name]));
    if (bad.length === 0) return validate(value);
    // A value of another type than the property's fails the schema with TypeBox's own error.
    const copy: Record<string, unknown> = { ...raw };
    for (const { name } of bad) copy[name] = { refused: raw[name] };
    return validate(copy);
  };
};

