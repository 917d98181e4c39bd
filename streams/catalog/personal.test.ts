import { describe, expect, it } from 'vitest';
import { mapPersonal, personalPaths } from './personal.ts';
import type { EventSchema } from './schema.ts';

const contact = {
  type: 'record' as const,
  name: 'Contact',
  fields: [
    { name: 'email', type: 'string', personal: true },
    { name: 'phones', type: { type: 'array' as const, items: 'string' }, personal: true },
    { name: 'role', type: 'string' },
  ],
};
const schema: EventSchema = {
  type: 'record',
  name: 'Example',
  namespace: 'novacron.events',
  version: 1,
  doc: 'Nested personal fields.',
  fields: [
    { name: 'owner', type: contact },
    { name: 'deputy', type: ['null', 'Contact'], default: null },
    { name: 'note', type: ['null', 'string'], personal: true, default: null },
  ],
};

describe('personal fields', () => {
  it('finds paths through nested and optional records', () => {
    expect(personalPaths(schema)).toEqual(['owner.email', 'owner.phones[]', 'deputy.email', 'deputy.phones[]', 'note']);
  });

  it('rewrites only personal strings, copying instead of mutating', () => {
    const data = { owner: { email: 'a@x', phones: ['1', '2'], role: 'cto' }, deputy: null, note: null };
    const frozen = structuredClone(data);
    const out = mapPersonal(data, personalPaths(schema), (value, path) => `${path}=${value}`);
    expect(out).toEqual({
      owner: { email: 'owner.email=a@x', phones: ['owner.phones[]=1', 'owner.phones[]=2'], role: 'cto' },
      deputy: null,
      note: null,
    });
    expect(data).toEqual(frozen);
    expect(mapPersonal(data, [], () => 'x')).toBe(data);
  });
});
