import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { fsyncDir } from '../files/private.ts';
import { dirname, join } from 'node:path';
import { NovaCronError } from '../errors/index.ts';
import { KEY_BYTES } from './aead.ts';
import type { MasterKeyring } from './types.ts';

export const MASTER_KEY_ENV = 'NOVACRON_MASTER_KEY';
export const MASTER_KEY_PREVIOUS_ENV = 'NOVACRON_MASTER_KEY_PREVIOUS';
export const MASTER_KEY_FILE = 'master.key';

export interface LoadMasterKeyOptions {
  /** The value of NOVACRON_MASTER_KEY: 32 bytes as 64 hex characters or base64 (padded or base64url). */
  value?: string | undefined;
  /** Where `master.key` lives (and is generated) when no value is given. */
  dataDir: string;
}

export interface LoadMasterKeysOptions extends LoadMasterKeyOptions {
  /** The value of NOVACRON_MASTER_KEY_PREVIOUS: keys being rotated away from, comma-separated; only beside `value`. */
  previous?: string | undefined;
}

const HEX = /^[0-9a-fA-F]{64}$/;
// 32 bytes are 43 base64 characters plus one '=' of padding; base64url may drop it.
const BASE64 = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}=?$/;

/**
 * Parses a master key given as 64 hex characters or base64 of exactly 32 bytes.
 * `source` names where the value came from, for the error message.
 */
export const parseMasterKey = (value: string, source: string = MASTER_KEY_ENV): Buffer => {
  const text = value.trim();
  if (HEX.test(text)) return Buffer.from(text, 'hex');
  if (BASE64.test(text)) {
    const key = Buffer.from(text, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new NovaCronError(
    'NC_MASTER_KEY_INVALID',
    text === ''
      ? `${source} is empty: give 32 bytes as 64 hex characters or base64 (e.g. \`openssl rand -hex 32\`), or unset ${MASTER_KEY_ENV} to use <dataDir>/${MASTER_KEY_FILE}`
      : `${source} is not a valid master key: give 32 bytes as 64 hex characters or base64 (e.g. \`openssl rand -hex 32\`); got ${text.length} characters`,
    { details: { source, length: text.length } },
  );
};

/**
 * The master key that wraps every tenant data key: NOVACRON_MASTER_KEY when given,
 * otherwise the first line of `<dataDir>/master.key`, generated on first use
 * (random 32 bytes, written as hex, mode 0600, created atomically so two
 * processes starting at once agree on one key).
 */
export const loadMasterKey = (options: LoadMasterKeyOptions): Buffer => loadMasterKeys(options).current;

/**
 * The current master key and the previous ones still accepted for unwrapping:
 * NOVACRON_MASTER_KEY and NOVACRON_MASTER_KEY_PREVIOUS when given, otherwise the
 * lines of `<dataDir>/master.key` (the first is current; `novacron keys
 * rotate-master` writes the new key above the old one while it rewraps).
 */
export const loadMasterKeys = ({ value, previous, dataDir }: LoadMasterKeysOptions): MasterKeyring => {
  if (value !== undefined) {
    const older = (previous ?? '').split(',').map((text) => text.trim()).filter((text) => text !== '');
    return { current: parseMasterKey(value, MASTER_KEY_ENV), previous: older.map((text) => parseMasterKey(text, MASTER_KEY_PREVIOUS_ENV)) };
  }
  if (previous !== undefined) {
    throw new NovaCronError(
      'NC_MASTER_KEY_INVALID',
      `${MASTER_KEY_PREVIOUS_ENV} is only read beside ${MASTER_KEY_ENV}: with <dataDir>/${MASTER_KEY_FILE}, \`novacron keys rotate-master\` keeps the old key in the file while it rotates`,
      { details: { source: MASTER_KEY_PREVIOUS_ENV } },
    );
  }
  const path = join(dataDir, MASTER_KEY_FILE);
  const existing = readKeyFile(path);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  createKeyFile(path, randomBytes(KEY_BYTES));
  // Read back what is on disk: when another process won the race, its key is the one.
  const created = readKeyFile(path);
  if (created === undefined) throw new Error(`${path} vanished right after it was created`);
  return created;
};

/**
 * Replaces `<dataDir>/master.key` with these keys, the current one first
 * (temp file, fsync, rename, fsync of the folder: readers see the old file or
 * the new one, never a part).
 */
export const writeMasterKeyFile = (dataDir: string, ring: MasterKeyring): void => {
  const path = join(dataDir, MASTER_KEY_FILE);
  const temp = writeTemp(path, [ring.current, ...ring.previous]);
  renameSync(temp, path);
  fsyncDir(dataDir);
};

const readKeyFile = (path: string): MasterKeyring | undefined => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const [current, ...previous] = (lines.length === 0 ? [''] : lines).map((line) => parseMasterKey(line, path));
  return { current: current!, previous };
};

const writeTemp = (path: string, keys: readonly Buffer[]): string => {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, keys.map((key) => `${key.toString('hex')}\n`).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
};

/**
 * Writes the key to a private temp file, fsyncs it, then hard-links it into
 * place: link() fails with EEXIST instead of replacing a key another process
 * created meanwhile, and readers never see a half-written file.
 */
const createKeyFile = (path: string, key: Buffer): void => {
  const temp = writeTemp(path, [key]);
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
  fsyncDir(dirname(path));
};
