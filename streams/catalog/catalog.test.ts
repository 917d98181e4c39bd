import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventTypes } from '../../schemas/generated/events.ts';
import { isNovaCronError, type NovaCronError } from '../errors/index.ts';
import { defaultCatalog, defaultSchemasDir, loadCatalog } from './catalog.ts';
import { samples } from './fixtures.ts';

const catalog = defaultCatalog();

/** Runs `fn`, expects a NovaCronError with `code`, returns it. */
function caught(fn: () => unknown, code: string): NovaCronError {
  try {
    fn();
  } catch (error) {
    if (!isNovaCronError(error)) throw error;
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const errorsOf = (type: string, data: unknown) =>
  caught(() => catalog.validate(type, data), 'NC_EVENT_INVALID').details as {
    type: string;
    errors: { path: string; message: string }[];
  };

describe('loading', () => {
  it('loads every event type from schemas/avro', () => {
    expect(catalog.types).toEqual([...eventTypes]);
    expect(catalog.types).toHaveLength(39);
    expect(catalog.has('VmCreated')).toBe(true);
    expect(catalog.has('VmExploded')).toBe(false);
  });

  it('finds schemas/avro from the module, not the working directory', () => {
    expect(defaultSchemasDir).toBe(fileURLToPath(new URL('../../schemas/avro/', import.meta.url)));
    expect(defaultCatalog()).toBe(catalog);
  });

  it('knows current and historical versions', () => {
    expect(catalog.version('RegionAdded')).toBe(2);
    expect(catalog.versions('RegionAdded')).toEqual([1, 2]);
    expect(catalog.version('TenantCreated')).toBe(1);
    expect(catalog.schema('RegionAdded', 1).fields.map((f) => f.name)).not.toContain('shards');
    expect(catalog.avroType('RegionAdded').name).toBe('novacron.events.RegionAdded');
  });

  it('throws NC_EVENT_TYPE_UNKNOWN for an unknown type, NC_EVENT_INVALID for an unknown version', () => {
    expect(caught(() => catalog.version('VmExploded'), 'NC_EVENT_TYPE_UNKNOWN').details).toEqual({ type: 'VmExploded' });
    caught(() => catalog.avroType('RegionAdded', 7), 'NC_EVENT_INVALID');
  });

  describe('rejects a malformed catalog', () => {
    const good = readFileSync(join(defaultSchemasDir, 'RegionAdded.avsc'), 'utf8');
    const dirs: string[] = [];
    afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
    const dirWith = (files: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'nc-catalog-'));
      dirs.push(dir);
      mkdirSync(join(dir, 'history'));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      return dir;
    };
    const edit = (change: (schema: Record<string, unknown>) => void) => {
      const schema = JSON.parse(good) as Record<string, unknown>;
      change(schema);
      return JSON.stringify(schema);
    };

    it.each([
      ['a record name that differs from the file name', { 'Other.avsc': good }, /must match the file name/],
      ['a missing version', { 'RegionAdded.avsc': edit((s) => delete s.version) }, /"version"/],
      ['another namespace', { 'RegionAdded.avsc': edit((s) => (s.namespace = 'x')) }, /namespace/],
      ['an invalid Avro schema', { 'RegionAdded.avsc': edit((s) => (s.fields = [{ name: 'a', type: 'nope' }])) }, /not a valid Avro/],
      [
        'a personal field that is not a string',
        { 'RegionAdded.avsc': edit((s) => (s.fields = [{ name: 'lat', type: 'double', personal: true }])) },
        /personal field lat must be a string/,
      ],
      [
        'a personal field inside an array',
        {
          'RegionAdded.avsc': edit(
            (s) =>
              (s.fields = [
                {
                  name: 'owners',
                  type: { type: 'array', items: { type: 'record', name: 'Owner', fields: [{ name: 'email', type: 'string', personal: true }] } },
                },
              ]),
          ),
        },
        /inside an array or a map/,
      ],
      ['a history file not older than the current one', { 'RegionAdded.avsc': good, 'history/RegionAdded.v2.avsc': good }, /not older/],
      ['a badly named history file', { 'RegionAdded.avsc': good, 'history/RegionAdded-1.avsc': good }, /<Type>\.v<N>\.avsc/],
    ])('%s', (_name, files, message) => {
      expect(() => loadCatalog(dirWith(files))).toThrow(message);
    });
  });
});

describe('validate', () => {
  it.each(catalog.types)('accepts a valid %s', (type) => {
    expect(() => catalog.validate(type, samples[type as keyof typeof samples])).not.toThrow();
  });

  it('accepts omitted fields that have a default, and normalize fills them in', () => {
    const { sshPublicKeys: _k, userData: _u, labels: _l, clusterId: _c, ...minimal } = samples.VmCreated;
    catalog.validate('VmCreated', minimal);
    expect(catalog.normalize('VmCreated', minimal)).toEqual({
      ...minimal,
      clusterId: null,
      sshPublicKeys: [],
      userData: null,
      labels: {},
    });
    expect(Object.getPrototypeOf(catalog.normalize('VmCreated', minimal))).toBe(Object.prototype);
  });

  it('rejects a value of the wrong type, with its path', () => {
    expect(errorsOf('VmCreated', { ...samples.VmCreated, spec: { ...samples.VmCreated.spec, vcpus: 1.5 } })).toEqual({
      type: 'VmCreated',
      errors: [{ path: 'spec.vcpus', message: 'expected int, got 1.5' }],
    });
    expect(errorsOf('VmCreated', { ...samples.VmCreated, sshPublicKeys: ['ok', 7] }).errors).toEqual([
      { path: 'sshPublicKeys[1]', message: 'expected string, got 7' },
    ]);
    expect(errorsOf('VmCreated', { ...samples.VmCreated, labels: { env: 1 } }).errors).toEqual([
      { path: 'labels.env', message: 'expected string, got 1' },
    ]);
    expect(errorsOf('VmCreated', { ...samples.VmCreated, userData: 42 }).errors).toEqual([
      { path: 'userData', message: 'expected null | string, got 42' },
    ]);
    expect(errorsOf('QuotaReleased', { ...samples.QuotaReleased, reason: 'bored' }).errors[0]?.path).toBe('reason');
  });

  it('rejects a missing required field', () => {
    const { name: _name, ...rest } = samples.TenantCreated;
    expect(errorsOf('TenantCreated', rest).errors).toEqual([{ path: 'name', message: 'missing required field' }]);
  });

  it('rejects undeclared fields, top-level and nested, and still checks the declared ones', () => {
    const data = { ...samples.TenantCreated, plan: 'gold', quota: { ...samples.TenantCreated.quota, gpus: 1, vms: 'x' } };
    expect(errorsOf('TenantCreated', data).errors).toEqual([
      { path: 'plan', message: 'undeclared field' },
      { path: 'quota.gpus', message: 'undeclared field' },
      { path: 'quota.vms', message: 'expected int, got "x"' },
    ]);
  });

  it('rejects data that is not an object, and numbers JSON cannot carry', () => {
    expect(errorsOf('VmPaused', ['vm1']).errors).toEqual([{ path: '', message: 'expected an object, got an array' }]);
    expect(errorsOf('VmPaused', null).errors[0]?.path).toBe('');
    expect(errorsOf('RegionAdded', { ...samples.RegionAdded, lat: Number.NaN }).errors).toEqual([
      { path: 'lat', message: 'expected a finite number, got NaN' },
    ]);
  });

  it('rejects an unknown type with NC_EVENT_TYPE_UNKNOWN', () => {
    caught(() => catalog.validate('VmExploded', {}), 'NC_EVENT_TYPE_UNKNOWN');
  });
});

describe('personalFields', () => {
  it('lists the paths of personal data', () => {
    expect(catalog.personalFields('TenantCreated')).toEqual(['contactEmail']);
    expect(catalog.personalFields('VmCreated')).toEqual(['sshPublicKeys[]', 'userData']);
    const withPersonal = catalog.types.filter((type) => catalog.personalFields(type).length > 0);
    expect(withPersonal).toEqual(['TenantCreated', 'VmCreated']);
  });
});

describe('upcast (Avro schema resolution)', () => {
  const v1 = {
    regionId: 'eu-west',
    name: 'EU West',
    lat: 53.35,
    lon: -6.26,
    complianceZone: 'eu',
    costPerVcpuHour: 0.021,
  };

  it('reads RegionAdded v1 (no shards) as v2 with shards = 100', () => {
    expect(catalog.upcast('RegionAdded', v1, 1)).toEqual({ ...v1, shards: 100 });
  });

  it('resolves raw v1 buffers with the v2 reader', () => {
    const writer = catalog.avroType('RegionAdded', 1);
    const reader = catalog.avroType('RegionAdded');
    const buffer = writer.toBuffer(v1);
    expect(() => reader.fromBuffer(buffer)).toThrow();
    expect({ ...reader.fromBuffer(buffer, reader.createResolver(writer)) }).toEqual({ ...v1, shards: 100 });
  });

  it('leaves current-version data as it is', () => {
    expect(catalog.upcast('RegionAdded', samples.RegionAdded, 2)).toBe(samples.RegionAdded);
  });

  it('rejects data from a newer or unknown version, and old data that does not match its schema', () => {
    caught(() => catalog.upcast('RegionAdded', v1, 3), 'NC_EVENT_INVALID');
    caught(() => catalog.upcast('TenantCreated', samples.TenantCreated, 0), 'NC_EVENT_INVALID');
    const details = caught(() => catalog.upcast('RegionAdded', { ...v1, shards: 5 }, 1), 'NC_EVENT_INVALID').details;
    expect(details).toMatchObject({ type: 'RegionAdded', version: 1, errors: [{ path: 'shards', message: 'undeclared field' }] });
  });
});
