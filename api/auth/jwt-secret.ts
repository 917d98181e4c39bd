import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { fsyncDir, privateDir } from '../../streams/files/private.ts';
import { join } from 'node:path';
import { NovaCronError } from '../../streams/errors/index.ts';
import { MIN_JWT_SECRET_LENGTH } from '../config.ts';

export const JWT_SECRET_FILE = 'jwt.secret';

/**
 * The HS256 secret of the JWTs: NOVACRON_JWT_SECRET when set, otherwise
 * `<dataDir>/jwt.secret`, generated once (32 random bytes, base64url, mode
 * 0600). The server and `novacron token` call this with the same settings, so
 * they agree on the secret.
 */
export function loadJwtSecret({ value, dataDir }: { value: string | undefined; dataDir: string }): string {
  if (value !== undefined) return value;
  const path = join(dataDir, JWT_SECRET_FILE);
  if (!existsSync(path)) generate(path, dataDir);
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new NovaCronError('NC_CONFIG_INVALID', `${path} must hold a secret of at least ${MIN_JWT_SECRET_LENGTH} characters (NOVACRON_JWT_SECRET unset)`, {
      details: { variable: 'NOVACRON_JWT_SECRET', path },
    });
  }
  return secret;
}

function generate(path: string, dataDir: string): void {
  privateDir(dataDir);
  // Written aside (0600, fsynced) then hard-linked into place: the file appears whole or not
  // at all, never overwritten; when two processes race, the loser reads the winner's. The
  // folder is fsynced after the link, so a generated secret survives a power loss (tokens
  // signed with it would otherwise stop verifying).
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(aside, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${randomBytes(32).toString('base64url')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(aside, path);
  } catch (error) {
    if (!(error instanceof Error && Reflect.get(error, 'code') === 'EEXIST')) throw error;
  } finally {
    unlinkSync(aside);
  }
  fsyncDir(dataDir);
}
