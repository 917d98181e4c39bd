/**
 * Servers a benchmark runs in child processes of their own (the load generator
 * runs in the benchmark's process): started, their URL read from what they print,
 * and stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The reference: a bare Fastify app answering `{"hello":"world"}`, no logger (`node -e`). */
export const HELLO_WORLD_SOURCE = `
  const app = require('fastify')({ logger: false });
  app.get('/', async () => ({ hello: 'world' }));
  app.listen({ host: '127.0.0.1', port: 0 }).then((url) => console.log('listening ' + url));`;
export const HELLO_WORLD_LISTENING = /^listening (http:\/\/\S+)/;

export function createServers() {
  const children: ChildProcess[] = [];
  return {
    /** Starts `node <args>` in the repository and resolves with the first http:// URL it prints (`pattern`'s group 1). */
    serve(args: string[], env: Record<string, string>, pattern: RegExp): Promise<string> {
      const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      return new Promise((resolve, reject) => {
        const lines = createInterface({ input: child.stdout! });
        lines.on('line', (line) => {
          const url = pattern.exec(line)?.[1];
          if (url !== undefined) resolve(url);
        });
        child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before listening: ${stderr}`)));
      });
    },
    /** Stops the server started last (SIGTERM). */
    stopLast(): void {
      children.pop()?.kill('SIGTERM');
    },
    /** Stops every server still running and waits for them to exit. */
    async stopAll(): Promise<void> {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
    },
  };
}
