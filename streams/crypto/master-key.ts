import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { fsyncDir } from '../files/private.ts';
import { dirname, join } from 'node:path';
import { NovaCronError } from '../errors/index.ts';
import { KEY_BYTES } from './aead.ts';

export const MASTER_KEY_ENV = 'NOVACRON_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';

export interface LoadMasterKeyOptions {
  /** The value of NOVACRON_MASTER_KEY: 32 bytes as 64 hex characters or base64 (padded or base64url). */
  value?: string | undefined;
  /** Where `master.key` lives (and is generated) when no value is given. */
  dataDir: string;
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
 * otherwise `<dataDir>/master.key`, generated on first use (random 32 bytes,
 * written as hex, mode 0600, created atomically so two processes starting at
 * once agree on one key).
 */
export const loadMasterKey = ({ value, dataDir }: LoadMasterKeyOptions): Buffer => {
  if (value !== undefined) return parseMasterKey(value, MASTER_KEY_ENV);
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

const readKeyFile = (path: string): Buffer | undefined => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseMasterKey(text, path);
};

/**
 * Writes the key to a private temp file, fsyncs it, then hard-links it into
 * place: link() fails with EEXIST instead of replacing a key another process
 * created meanwhile, and readers never see a half-written file.
 */
const createKeyFile = (path: string, key: Buffer): void => {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
  fsyncDir(dirname(path));
};

