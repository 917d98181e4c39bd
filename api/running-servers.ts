/**
 * Which NovaCron processes run on a data dir, for `novacron status`: each
 * `novacron start` (every role with an HTTP listener) announces itself in
 * `<data dir>/running/<role>.<pid>.json` (its PID and address, mode 0600)
 * and removes the file when it exits; a file whose PID no longer runs (a
 * SIGKILL) is ignored and removed by the next reader.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningServer {
  pid: number;
  /** `all`, `api` or `processor`. */
  role: string;
  /** Where its HTTP listener answers (the API, or a processor role's /healthz). */
  url: string;
  startedAt: string;
}

const dirOf = (dataDir: string) => join(dataDir, 'running');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Announces this process; returns what removes the announcement (also done on exit). */
export function announceServer(dataDir: string, { role, url }: { role: string; url: string }): () => void {
  const dir = dirOf(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${role}.${process.pid}.json`);
  const entry: RunningServer = { pid: process.pid, role, url, startedAt: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  const remove = () => rmSync(file, { force: true });
  process.once('exit', remove);
  return () => {
    process.removeListener('exit', remove);
    remove();
  };
}

/** The processes announced on `dataDir` that still run. */
export function runningServers(dataDir: string): RunningServer[] {
  const dir = dirOf(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const found: RunningServer[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      const entry = JSON.parse(readFileSync(file, 'utf8')) as RunningServer;
      if (Number.isSafeInteger(entry.pid) && entry.pid > 0 && alive(entry.pid) && typeof entry.url === 'string') found.push(entry);
      else rmSync(file, { force: true });
    } catch {
      // Half written, or removed meanwhile: not a server to ask.
    }
  }
  return found;
}
