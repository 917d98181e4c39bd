import { describe, expect, it } from 'vitest';
import { REDACTED, type PersonalDataCipher } from '../crypto/types.ts';
import { isNovaCronError } from '../errors/index.ts';
import { defaultCatalog } from './catalog.ts';
import { createEventCodec } from './codec.ts';
import { samples } from './fixtures.ts';

/** A stand-in for the AES-GCM cipher: reversible, tenant-bound, and able to forget a tenant's key. */
function fakeCipher() {
  const destroyed = new Set<string>();
  const cipher: PersonalDataCipher = {
    encrypt: (tenantId, plaintext) => `enc:${tenantId}:${Buffer.from(plaintext).toString('base64')}`,
    decrypt: (tenantId, token) => {
      // Like the real cipher: plaintext (not a token) comes back as is while the tenant lives.
      if (!token.startsWith('enc:')) return destroyed.has(tenantId) ? REDACTED : token;
      const [, owner, body = ''] = token.split(':');
      if (owner !== tenantId) throw new Error('wrong key');
      return destroyed.has(tenantId) ? REDACTED : Buffer.from(body, 'base64').toString();
    },
    isEncrypted: (value) => value.startsWith('enc:'),
  };
  return { cipher, destroy: (tenantId: string) => destroyed.add(tenantId) };
}

const catalog = defaultCatalog();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (isNovaCronError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('createEventCodec', () => {
  it('encrypts personal fields on encode, and the result still matches the schema', () => {
    const { cipher } = fakeCipher();
    const codec = createEventCodec({ catalog, cipher });
    const { data, schemaVersion } = codec.encode('VmCreated', samples.VmCreated, 't1');
    expect(schemaVersion).toBe(1);
    expect(data.sshPublicKeys).toEqual(samples.VmCreated.sshPublicKeys.map((key) => cipher.encrypt('t1', key)));
    expect(data.userData).toBe(cipher.encrypt('t1', samples.VmCreated.userData ?? ''));
    expect(data.name).toBe('web-1');
    expect(JSON.stringify(data)).not.toContain('alice');
    catalog.validate('VmCreated', data);
  });

  it('round-trips every event type', () => {
    const codec = createEventCodec({ catalog, cipher: fakeCipher().cipher });
    for (const type of catalog.types) {
      const sample = samples[type as keyof typeof samples];
      const { data, schemaVersion } = codec.encode(type, sample, 't1');
      expect(codec.decode(type, JSON.parse(JSON.stringify(data)), schemaVersion, 't1'), type).toEqual(sample);
    }
  });

  it('does not mutate the input, and fills defaults', () => {
    const codec = createEventCodec({ catalog, cipher: fakeCipher().cipher });
    const { sshPublicKeys: _k, userData: _u, labels: _l, ...minimal } = samples.VmCreated;
    const input = structuredClone(minimal);
    const { data } = codec.encode('VmCreated', input, null);
    expect(input).toEqual(minimal);
    expect(data).toMatchObject({ sshPublicKeys: [], userData: null, labels: {} });
  });

  it('redacts personal fields once the tenant key is destroyed', () => {
    const { cipher, destroy } = fakeCipher();
    const codec = createEventCodec({ catalog, cipher });
    const { data, schemaVersion } = codec.encode('TenantCreated', samples.TenantCreated, 't1');
    destroy('t1');
    expect(codec.decode('TenantCreated', data, schemaVersion, 't1')).toEqual({ ...samples.TenantCreated, contactEmail: REDACTED });
  });

  it('redacts plaintext personal fields written before encryption once the tenant key is destroyed', () => {
    const { cipher, destroy } = fakeCipher();
    const codec = createEventCodec({ catalog, cipher });
    expect(codec.decode('TenantCreated', samples.TenantCreated, 1, 't1')).toEqual(samples.TenantCreated);
    destroy('t1');
    expect(codec.decode('TenantCreated', samples.TenantCreated, 1, 't1')).toEqual({ ...samples.TenantCreated, contactEmail: REDACTED });
  });

  it('refuses personal data without a tenant id (NC_KEY_MISSING), but not empty personal fields', () => {
    const codec = createEventCodec({ catalog, cipher: fakeCipher().cipher });
    expect(codeOf(() => codec.encode('TenantCreated', samples.TenantCreated, null))).toBe('NC_KEY_MISSING');
    expect(codeOf(() => codec.encode('VmCreated', { ...samples.VmCreated, sshPublicKeys: [], userData: 'x' }, null))).toBe(
      'NC_KEY_MISSING',
    );
    expect(codeOf(() => codec.encode('VmCreated', { ...samples.VmCreated, sshPublicKeys: [''], userData: null }, null))).toBe(
      undefined,
    );
    expect(codec.encode('RegionAdded', samples.RegionAdded, null).data).toEqual(samples.RegionAdded);
  });

  it('refuses to decrypt without a tenant id, and passes plaintext through', () => {
    const codec = createEventCodec({ catalog, cipher: fakeCipher().cipher });
    const { data } = codec.encode('TenantCreated', samples.TenantCreated, 't1');
    expect(codeOf(() => codec.decode('TenantCreated', data, 1, null))).toBe('NC_KEY_MISSING');
    expect(codec.decode('TenantCreated', samples.TenantCreated, 1, 't1')).toEqual(samples.TenantCreated);
  });

  it('validates on encode', () => {
    const codec = createEventCodec({ catalog, cipher: fakeCipher().cipher });
    expect(codeOf(() => codec.encode('VmExploded', {}, 't1'))).toBe('NC_EVENT_TYPE_UNKNOWN');
    expect(codeOf(() => codec.encode('VmPaused', { vmId: 'vm1', extra: true }, 't1'))).toBe('NC_EVENT_INVALID');
    expect(codeOf(() => codec.encode('VmPaused', {}, 't1'))).toBe('NC_EVENT_INVALID');
  });

  it('upcasts data written with an older schema version on decode', () => {
    const codec = createEventCodec({ catalog, cipher: fakeCipher().cipher });
    const { shards: _shards, ...v1 } = samples.RegionAdded;
    expect(codec.decode('RegionAdded', v1, 1, null)).toEqual({ ...v1, shards: 100 });
  });
});
