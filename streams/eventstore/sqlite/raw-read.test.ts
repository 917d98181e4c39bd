// `raw: true` on readAll and subscribeToAll: data exactly as stored (personal
// fields encrypted, old schema versions not upcast), for the Kafka relay.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher, REDACTED } from '../../crypto/index.ts';
import { tenantCreated } from '../contract/fixtures.ts';
import type { EventCodec, RecordedEvent } from '../port.ts';
import { createSqliteEventStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'novacron-raw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function open(name: string) {
  const keys = createKeyStore({ path: ':memory:', masterKey: randomBytes(32) });
  const real = createEventCodec({ catalog: defaultCatalog(), cipher: createPersonalDataCipher(keys) });
  // Writes VmResized as its v1 (an event recorded before v2 existed); everything else as usual.
  // and tenant `legacy`'s TenantCreated in plaintext (recorded before encryption existed).
  const codec: EventCodec = {
    encode: (type, data, tenantId) =>
      type === 'VmResized' || tenantId === 'legacy'
        ? { data: type === 'VmResized' ? (data as Record<string, unknown>) : defaultCatalog().normalize(type, data), schemaVersion: type === 'VmResized' ? 1 : defaultCatalog().version(type) }
        : real.encode(type, data, tenantId),
    decode: real.decode,
    seal: real.seal,
  };
  const store = createSqliteEventStore({ path: join(dir, `${name}.db`), codec, pollIntervalMs: 20 });
  return { store, keys };
}

const size = { vcpus: 2, memoryMiB: 4096, diskGiB: 40 };
const resizedV1 = { vmId: 'vm1', from: size, to: { ...size, vcpus: 4 } };

describe('SQLite event store: raw reads', () => {
  it('readAll({ raw: true }) returns personal fields encrypted and old versions as written', async () => {
    const { store, keys } = open('read-all');
    await store.append('tenant-acme', [tenantCreated('acme', 'ops@acme.example')]);
    await store.append('vm-vm1', [{ type: 'VmResized', data: resizedV1 }]);

    const [created, resized] = await store.readAll({ raw: true });
    expect(created?.data['contactEmail']).toMatch(/^ncpii:/);
    expect(JSON.stringify(created)).not.toContain('ops@acme.example');
    expect(resized?.metadata.schemaVersion).toBe(1);
    expect(resized?.data).toEqual(resizedV1); // v1 shape: no quota/capacity reservation ids

    // The default stays decoded: decrypted and upcast to the current version.
    const [plain, upcast] = await store.readAll();
    expect(plain?.data['contactEmail']).toBe('ops@acme.example');
    expect(upcast?.data).toEqual({ ...resizedV1, quotaReservationId: null, capacityReservationId: null });

    // Once the tenant's key is destroyed, raw data is still the original ciphertext (not REDACTED).
    keys.destroyDataKey('acme');
    const [shredded] = await store.readAll({ raw: true, maxCount: 1 });
    expect(shredded?.data['contactEmail']).toBe(created?.data['contactEmail']);
    expect((await store.readAll({ maxCount: 1 }))[0]?.data['contactEmail']).toBe(REDACTED);
    await store.close();
    keys.close();
  });

  it('raw reads never carry a personal field stored in plaintext: encrypted while the tenant lives, REDACTED once its key is destroyed', async () => {
    const { store, keys } = open('legacy-plaintext');
    const email = 'legacy-owner@legacy.example';
    await store.append('tenant-legacy', [tenantCreated('legacy', email)]);
    const db = new Database(join(dir, 'legacy-plaintext.db'), { readonly: true });
    expect(JSON.stringify(db.prepare('SELECT data FROM events').all())).toContain(email); // as an old release stored it
    db.close();

    const [live] = await store.readAll({ raw: true });
    expect(live?.data['contactEmail']).toMatch(/^ncpii:/);
    expect(JSON.stringify(live)).not.toContain(email);
    expect((await store.readAll())[0]?.data['contactEmail']).toBe(email); // decoded reads still show it while the tenant lives

    keys.destroyDataKey('legacy');
    const fromSubscription: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({ raw: true });
    for await (const event of subscription) {
      fromSubscription.push(event);
      break;
    }
    await subscription.stop();
    const [shredded] = await store.readAll({ raw: true });
    expect(shredded?.data['contactEmail']).toBe(REDACTED);
    expect(fromSubscription[0]?.data['contactEmail']).toBe(REDACTED);
    expect(JSON.stringify([shredded, fromSubscription])).not.toContain(email);
    await store.close();
    keys.close();
  });

  it('subscribeToAll({ raw: true }) delivers history and live events undecoded', async () => {
    const { store, keys } = open('subscribe');
    await store.append('tenant-t1', [tenantCreated('t1', 'a@t1.example')]);
    const subscription = store.subscribeToAll({ raw: true, batchSize: 1 });
    const seen: RecordedEvent[] = [];
    const done = (async () => {
      for await (const event of subscription) {
        seen.push(event);
        if (seen.length === 3) break;
      }
    })();
    await store.append('tenant-t2', [tenantCreated('t2', 'b@t2.example')]);
    await store.append('vm-vm1', [{ type: 'VmResized', data: resizedV1 }]);
    await done;
    await subscription.stop();
    expect(seen.map((e) => e.position)).toEqual([1, 2, 3]);
    expect(seen.slice(0, 2).map((e) => String(e.data['contactEmail']).startsWith('ncpii:'))).toEqual([true, true]);
    expect(seen[2]?.data).toEqual(resizedV1);
    await store.close();
    keys.close();
  });
});
