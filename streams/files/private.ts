/**
 * Files and folders only their owner can read. The data dir holds the event
 * log, the tenants' wrapped data keys, API key hashes and idempotent answers:
 * it is created 0700 and every file in it 0600, whatever the process umask
 * (SQLite creates a database's -wal and -shm files with the database file's
 * own mode, so making the main file private first covers them).
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';

/** Creates `path` (and missing parents) mode 0700; narrows an existing folder to 0700. */
export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/**
 * Creates `path` empty, mode 0600, before anything (SQLite) opens it, and narrows an
 * existing file to 0600. Missing folders on the way are created 0700; an existing one
 * is left as it is (it may be /tmp: the data dir itself is made private by privateDir).
 * ':memory:' is left alone.
 */
export function privateFile(path: string, dir: string): void {
  if (path === ':memory:' || path === '') return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/** fsyncs a folder, so that a file just created (or linked) in it survives a power loss. */
export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
