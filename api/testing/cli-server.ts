import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embeddedChildEnv } from './child-env.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliServer {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Resolves with the first stdout line matching `pattern` (already printed or still to come). */
  waitFor(pattern: RegExp): Promise<string>;
  /** The exit code; null when a signal ended it. */
  exited: Promise<number | null>;
  /** SIGKILLs it unless it has ended, and waits for the exit (a test's cleanup). */
  kill(): Promise<void>;
}

/**
 * `novacron start` in a child process, its environment `embeddedChildEnv(env)`; resolves once it listens.
 * With `via: 'npm'`, the child is `npm start` itself, as a newcomer runs it.
 */
export async function startCliServer(env: Record<string, string>, { via = 'node' }: { via?: 'node' | 'npm' } = {}): Promise<CliServer> {
  const child =
    via === 'npm'
      ? // Its own process group, killed whole: SIGKILL to npm alone would leave the server it started running.
        spawn('npm', ['start', '--silent'], { cwd: root, env: embeddedChildEnv(env), detached: true })
      : spawn(process.execPath, [join(root, 'bin', 'novacron.mjs'), 'start'], { cwd: root, env: embeddedChildEnv(env) });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = once(child, 'exit').then(([code]) => (typeof code === 'number' ? code : null));
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return resolve(seen);
      waiters.push({ pattern, resolve });
      void exited.then((code) => reject(new Error(`novacron exited (${code}) before printing ${pattern}\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)));
    });
  const listening = await waitFor(/NovaCron API listening on (http:\/\/\S+)/);
  const url = /listening on (http:\/\/\S+)/.exec(listening)?.[1] ?? '';
  return {
    child,
    url,
    waitFor,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        if (via === 'npm' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
