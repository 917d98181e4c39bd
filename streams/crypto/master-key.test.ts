import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../errors/index.ts';
import { loadMasterKey, parseMasterKey } from './master-key.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'novacron-master-key-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const rejected = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
};

describe('loadMasterKey without NOVACRON_MASTER_KEY', () => {
  it('generates <dataDir>/master.key once, mode 0600, and reuses it', () => {
    const first = loadMasterKey({ dataDir });
    expect(first).toHaveLength(32);
    const file = join(dataDir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual(['master.key']); // no temp file left behind

    const second = loadMasterKey({ dataDir });
    expect(second.equals(first)).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.toString('hex'));
  });

  it('creates the data dir when it does not exist', () => {
    const nested = join(dataDir, 'a', 'b');
    expect(loadMasterKey({ dataDir: nested })).toHaveLength(32);
    expect(statSync(join(nested, 'master.key')).isFile()).toBe(true);
  });

  it('rejects a corrupt master.key, naming the file', () => {
    writeFileSync(join(dataDir, 'master.key'), 'not a key\n');
    const error = rejected(() => loadMasterKey({ dataDir }));
    expect(isNovaCronError(error, 'NC_MASTER_KEY_INVALID')).toBe(true);
    expect(error.message).toContain(join(dataDir, 'master.key'));
  });
});

describe('loadMasterKey with NOVACRON_MASTER_KEY', () => {
  const key = randomBytes(32);

  it.each([
    ['hex', key.toString('hex')],
    ['upper-case hex', key.toString('hex').toUpperCase()],
    ['base64', key.toString('base64')],
    ['base64url', key.toString('base64url')],
    ['base64 with surrounding whitespace', ` ${key.toString('base64')}\n`],
  ])('accepts %s', (_name, value) => {
    expect(loadMasterKey({ value, dataDir }).equals(key)).toBe(true);
    expect(readdirSync(dataDir)).toEqual([]); // the data dir is not touched
  });

  it.each([
    ['empty', ''],
    ['too short hex', key.toString('hex').slice(2)],
    ['too long hex', `${key.toString('hex')}00`],
    ['non-hex characters', 'z'.repeat(64)],
    ['base64 of 31 bytes', randomBytes(31).toString('base64')],
    ['base64 of 33 bytes', randomBytes(33).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
  ])('rejects %s, naming NOVACRON_MASTER_KEY', (_name, value) => {
    const error = rejected(() => loadMasterKey({ value, dataDir }));
    expect(isNovaCronError(error, 'NC_MASTER_KEY_INVALID')).toBe(true);
    expect(error.message).toContain('NOVACRON_MASTER_KEY');
    expect(error.message).not.toContain(value.trim() || '\0'); // never echoes the secret
  });

  it('parseMasterKey names the source it is given', () => {
    expect(() => parseMasterKey('nope', '/etc/novacron/key')).toThrow('/etc/novacron/key');
  });
});
