/**
 * For tests that must stop and restart a schema registry: a private Apicurio
 * started through infra/local/schema-registry, with its own state dir, port and
 * PostgreSQL database (the shared registry of `infra/local/up` is never touched).
 * `kill()` sends SIGKILL to the PID in its PID file; `start()` starts it again
 * on the same database. `destroy()` stops it and drops its database.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../infra/local/schema-registry', import.meta.url));

export interface PrivateRegistry {
  /** The Confluent API base URL (`…/apis/ccompat/v7`); fixed for the registry's life (start keeps the port). */
  readonly url: string;
  readonly database: string;
  pid(): number;
  start(): Promise<void>;
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateRegistry({ stateDir, port }: { stateDir: string; port: number }): Promise<PrivateRegistry> {
  const database = `novacron_registry_test_${randomBytes(4).toString('hex')}`;
  const env = { ...process.env, NOVACRON_INFRA_DIR: stateDir, NOVACRON_SCHEMA_REGISTRY_PORT: String(port), NOVACRON_REGISTRY_PG_DATABASE: database };
  const script = async (...args: string[]): Promise<string> => {
    try {
      return (await run('bash', [SCRIPT, ...args], { env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
    } catch (error) {
      const stderr = (error as { stderr?: unknown }).stderr;
      throw new Error(`infra/local/schema-registry ${args.join(' ')} failed: ${typeof stderr === 'string' ? stderr.slice(-4000) : String(error)}`, { cause: error });
    }
  };
  const pid = () => Number(readFileSync(join(stateDir, 'schema-registry', 'schema-registry.pid'), 'utf8').split(' ')[0]);
  const alive = (p: number) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  const start = async () => {
    await script('start');
    await script('wait');
  };
  await start();
  const url = (await script('env')).trim().replace(/^export NOVACRON_SCHEMA_REGISTRY_URL=/, '');
  return {
    url,
    database,
    pid,
    start: async () => {
      await start();
      const now = (await script('env')).trim().replace(/^export NOVACRON_SCHEMA_REGISTRY_URL=/, '');
      if (now !== url) throw new Error(`the private registry came back on ${now}, not ${url}`);
    },
    async kill() {
      const p = pid();
      process.kill(p, 'SIGKILL');
      const deadline = Date.now() + 30_000;
      while (alive(p)) {
        if (Date.now() > deadline) throw new Error(`registry pid ${p} still alive 30 s after SIGKILL`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async destroy() {
      await script('stop').catch(() => undefined);
      await script('drop-database').catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
