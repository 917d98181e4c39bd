import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../streams/catalog/index.ts';

const catalog = defaultCatalog();
const pairs = catalog.types.flatMap((type) =>
  catalog
    .versions(type)
    .filter((version) => version < catalog.version(type))
    .map((version) => [type, version] as const),
);

describe('schema evolution', () => {
  it('keeps history for the evolved schemas', () => {
    expect(pairs).toContainEqual(['RegionAdded', 1]);
  });

  // BACKWARD (transitive): the current schema reads data written with every older one.
  it.each(pairs)('%s: the current version reads v%i', (type, version) => {
    const current = catalog.avroType(type);
    const old = catalog.avroType(type, version);
    expect(() => current.createResolver(old)).not.toThrow();
  });

  it('catches an incompatible change', () => {
    const withoutShards = catalog.avroType('RegionAdded', 1);
    const current = catalog.avroType('RegionAdded');
    // Reading v2 data with v1 is fine (v1 ignores shards), but a new field without a default is not.
    expect(() => withoutShards.createResolver(current)).not.toThrow();
    const { fields } = catalog.schema('RegionAdded');
    const strict = { ...catalog.schema('RegionAdded'), fields: fields.map(({ default: _d, ...field }) => field) };
    expect(() => avsc.Type.forSchema(strict as avsc.Schema).createResolver(withoutShards)).toThrow(/shards/);
  });
});
