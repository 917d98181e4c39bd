/**
 * The EventCodec of the event store: schema validation and encryption of
 * personal fields on the way in; decryption (or redaction, once a tenant's
 * key is destroyed) and upcasting of old versions on the way out.
 */
import type { PersonalDataCipher } from '../crypto/types.ts';
import { NovaCronError } from '../errors/index.ts';
import type { EventCodec } from '../eventstore/port.ts';
import { defaultCatalog, type Catalog } from './catalog.ts';
import { mapPersonal } from './personal.ts';

export interface EventCodecOptions {
  /** Defaults to the catalog of schemas/avro. */
  catalog?: Catalog;
  cipher: PersonalDataCipher;
}

const keyMissing = (type: string, fields: string[]) =>
  new NovaCronError('NC_KEY_MISSING', `${type} carries personal data (${fields.join(', ')}) but no tenant id to encrypt it with`, {
    details: { type, fields },
  });

export function createEventCodec({ catalog = defaultCatalog(), cipher }: EventCodecOptions): EventCodec {
  if (cipher === undefined || cipher === null) throw new TypeError('createEventCodec: a cipher is required');

  return {
    encode(type, data, tenantId) {
      const complete = catalog.normalize(type, data);
      const paths = catalog.personalFields(type);
      const withValues = new Set<string>();
      mapPersonal(complete, paths, (value, path) => {
        if (value !== '') withValues.add(path);
        return value;
      });
      if (withValues.size === 0) return { data: complete, schemaVersion: catalog.version(type) };
      if (tenantId === null || tenantId === '') throw keyMissing(type, [...withValues]);
      const encrypted = mapPersonal(complete, paths, (value) => (value === '' ? value : cipher.encrypt(tenantId, value)));
      return { data: encrypted, schemaVersion: catalog.version(type) };
    },

    decode(type, data, schemaVersion, tenantId) {
      const hasTenant = tenantId !== null && tenantId !== '';
      const decrypted = mapPersonal(data, catalog.personalFields(type, schemaVersion), (value, path) => {
        if (!cipher.isEncrypted(value)) return value;
        if (!hasTenant) throw keyMissing(type, [path]);
        return cipher.decrypt(tenantId, value);
      });
      const upcast = catalog.upcast(type, decrypted, schemaVersion);
      if (!hasTenant) return upcast;
      // Plaintext written before encryption (or by an older schema version that
      // did not mark the field personal) is passed to the cipher too: it comes
      // back as is while the tenant lives and REDACTED once its key is destroyed,
      // so no read path (API, feed, Kafka relay, analytics) shows it after shredding.
      return mapPersonal(upcast, catalog.personalFields(type), (value) =>
        value === '' || cipher.isEncrypted(value) ? value : cipher.decrypt(tenantId, value),
      );
    },

    seal(type, data, schemaVersion, tenantId) {
      if (tenantId === null || tenantId === '' || !catalog.has(type)) return data;
      // The fields personal in the stored version and in the current one (same names in
      // both shapes): a field an older version did not mark is sealed too.
      const stored = catalog.versions(type).includes(schemaVersion) ? catalog.personalFields(type, schemaVersion) : [];
      const paths = [...new Set([...stored, ...catalog.personalFields(type)])];
      return mapPersonal(data, paths, (value) => (value === '' || cipher.isEncrypted(value) ? value : cipher.encrypt(tenantId, value)));
    },
  };
}
