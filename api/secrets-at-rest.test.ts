// What someone who can read the data dir finds there. After API keys are created
// (with Idempotency-Key, so their answers are kept for replay), used, and tokens
// signed and used: no API key, no key secret, no bearer token anywhere in any file
// (the SQLite files with their -wal and -shm included), the answer still replays to
// the client that holds the Idempotency-Key; every file is 0600 and every folder 0700.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openApiDatabase } from './api-db.ts';
import { createIdempotencyStore } from './idempotency/store.ts';
import { fleetApp, seedApi, type FleetApp } from './testing/fleet-app.ts';

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? [join(dir, entry.name), ...walk(join(dir, entry.name))] : [join(dir, entry.name)]));

/** Files of the data dir holding `needle` (as UTF-8 text, or its base64url/hex forms as they are). */
const filesHolding = (dir: string, needle: string): string[] =>
  walk(dir).filter((path) => statSync(path).isFile() && readFileSync(path).includes(Buffer.from(needle, 'utf8')));

// The files whose whole purpose is to hold a secret (when it is not given by setting).
const SECRET_FILES = new Set(['jwt.secret', 'master.key']);

let f: FleetApp | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe('secrets at rest in the data dir', () => {
  it('holds no API key, key secret or bearer token in any file; the answer replays only to the Idempotency-Key', async () => {
    f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
    await seedApi(f);
    const idempotencyKey = '0b8f3c1e-6a43-4f0e-9d59-3a7e2b1c9f11';
    const create = () =>
      f!.app.inject({ method: 'POST', url: '/v1/tenants/acme/api-keys', headers: { ...f!.operator, 'idempotency-key': idempotencyKey }, payload: { role: 'tenant-admin', name: 'ci' } });
    const created = await create();
    expect(created.statusCode, created.body).toBe(201);
    const { key } = created.json() as { key: string };
    const keySecret = key.split('_').at(-1) as string;

    // Used: the key and the tokens go through the auth path, the caches and the logs.
    const tenantBearer = f.tenant('acme');
    for (const headers of [{ 'x-api-key': key }, tenantBearer, f.operator]) {
      const vms = await f.app.inject({ method: 'GET', url: '/v1/vms?tenantId=acme', headers });
      expect(vms.statusCode, vms.body).toBe(200);
    }
    const replayed = await create();
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json().key).toBe(key);

    const tokens = [f.operator.authorization, tenantBearer.authorization].map((h) => h.replace(/^Bearer /, ''));
    const jwtSecret = readFileSync(join(f.dataDir, 'jwt.secret'), 'utf8').trim();
    for (const [what, needle] of [['the API key', key], ['the key secret', keySecret], ['the JWT secret', jwtSecret], ...tokens.map((t) => ['a bearer token', t])] as const) {
      const holding = filesHolding(f.dataDir, needle).filter((path) => !SECRET_FILES.has(path.slice(f!.dataDir.length + 1)));
      expect(holding, `${what} found in ${holding.join(', ')}`).toEqual([]);
    }

    // Only the owner can read any of it.
    for (const path of [f.dataDir, ...walk(f.dataDir)]) {
      const { mode } = statSync(path);
      expect((mode & 0o777).toString(8), path).toBe(statSync(path).isDirectory() ? '700' : '600');
    }
  });

  it('seals the answers an earlier version kept in the clear, and drops them', async () => {
    f = await fleetApp({ NOVACRON_SWEEP_INTERVAL_MS: '3600000' });
    const path = join(f.dataDir, 'legacy-api.db');
    const secret = 'nck_0123456789abcdef_legacy-secret-in-the-clear-aaaaaaaaaaaaaaaa';
    const legacy = new Database(path);
    legacy.exec(`CREATE TABLE idempotency_keys (subject TEXT NOT NULL, tenant_id TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
      status INTEGER NOT NULL, body TEXT NOT NULL, content_type TEXT, location TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      PRIMARY KEY (subject, tenant_id, key)) STRICT`);
    const now = Date.now();
    legacy
      .prepare('INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run('op', '', 'k-1', 'hash-1', 201, JSON.stringify({ key: secret }), 'application/json; charset=utf-8', null, now, now + 3_600_000);
    legacy.close();
    expect(filesHolding(f.dataDir, secret)).toEqual([path]);

    const db = openApiDatabase(path, { sync: 'normal' });
    const store = createIdempotencyStore(db, { ttlMs: 3_600_000 });
    expect(store.find({ subject: 'op', tenantId: null, key: 'k-1' }, now)).toMatchObject({ requestHash: 'hash-1', answer: { status: 201, body: JSON.stringify({ key: secret }) } });
    // Another key, or the same key of another principal, finds nothing.
    expect(store.find({ subject: 'op', tenantId: null, key: 'k-2' }, now)).toBeNull();
    expect(store.find({ subject: 'someone-else', tenantId: null, key: 'k-1' }, now)).toBeNull();
    db.close();
    expect(filesHolding(f.dataDir, secret)).toEqual([]);
    expect(filesHolding(f.dataDir, 'k-1')).toEqual([]);
  });
});
