/**
 * One relay per event store and topic prefix: a second one would publish every
 * event again. A lock file `{ pid, host, processStart, startedAt }` is created
 * exclusively and its mtime renewed while the relay runs. A lock is left behind
 * by a process that is gone when, on this host, its PID is dead or now belongs
 * to another process (start times differ: a restarted container reuses PID 1),
 * or, from any host, when it has not been renewed for `staleMs`. Such a lock is
 * taken over. It guards against running `npm start` and `novacron start --role
 * relay` on the same data at once; it is not a distributed lock.
 */
import { linkSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { NovaCronError } from '../../streams/errors/index.ts';

interface Holder {
  pid: number;
  host: string;
  /** Start time of the process (Linux: clock ticks after boot, from /proc), null elsewhere. */
  processStart: string | null;
  startedAt: string;
}

export interface RelayLock {
  /** Marks the lock as live (the relay calls it every few seconds). */
  renew(): void;
  release(): void;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return holder.processStart === null || processStart(holder.pid) === holder.processStart;
}

function readHolder(path: string): Holder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? ({ processStart: null, startedAt: '?', ...parsed } as Holder) : null;
  } catch {
    return null;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Takes the lock at `path`. Throws NC_RELAY_RUNNING while a live relay holds it. */
export function acquireRelayLock(path: string, { staleMs = 30_000 }: { staleMs?: number } = {}): RelayLock {
  const mine: Holder = { pid: process.pid, host: hostname(), processStart: processStart(process.pid), startedAt: new Date().toISOString() };
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temp, JSON.stringify(mine));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temp, path); // atomic: fails if the lock exists
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      }
      const holder = readHolder(path);
      const gone = holder === null || ageMs(path) > staleMs || (holder.host === mine.host && !alive(holder));
      if (!gone) {
        throw new NovaCronError(
          'NC_RELAY_RUNNING',
          `another relay (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) publishes this event store: ${path}. ` +
            `Run one relay per event store (\`novacron start --role api\` runs the API without one); the lock is taken over once its holder is gone or has not renewed it for ${Math.round(staleMs / 1000)} s.`,
          { details: { path, pid: holder.pid, host: holder.host } },
        );
      }
      unlinkSync(path); // left by a process that is gone
    }
  } finally {
    unlinkSync(temp);
  }
  const ours = () => {
    const holder = readHolder(path);
    return holder !== null && holder.pid === mine.pid && holder.host === mine.host && holder.processStart === mine.processStart && holder.startedAt === mine.startedAt;
  };
  let released = false;
  return {
    renew() {
      if (!released && ours()) {
        const now = new Date();
        utimesSync(path, now, now);
      }
    },
    release() {
      if (released) return;
      released = true;
      if (ours()) unlinkSync(path);
    },
  };
}
