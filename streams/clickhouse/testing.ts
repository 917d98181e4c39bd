/**
 * For the *.int.test.ts suites that need ClickHouse (`eval "$(infra/local/up)"`):
 * skipped when NOVACRON_CLICKHOUSE_URL is unset, unless NOVACRON_REQUIRE_INFRA=1,
 * when they fail naming the variable. Each test makes its own database
 * (`test_<name>_<time><random>`) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { openClickHouse, type ClickHouse } from './client.ts';
import { pendingStateMutations } from './compaction.ts';
import { sqlIdentifier } from './escape.ts';

const REQUIRE = process.env['NOVACRON_REQUIRE_INFRA'] === '1';

function url(): string | undefined {
  const value = process.env['NOVACRON_CLICKHOUSE_URL']?.trim();
  return value ? value : undefined;
}

export interface ClickHouseInfra {
  /** Whether the suite runs: NOVACRON_CLICKHOUSE_URL set, or NOVACRON_REQUIRE_INFRA=1. */
  run: boolean;
  url(): string;
}

export function clickhouseInfra(): ClickHouseInfra {
  return {
    run: url() !== undefined || REQUIRE,
    url() {
      const value = url();
      if (value === undefined) throw new Error('NOVACRON_CLICKHOUSE_URL is not set but NOVACRON_REQUIRE_INFRA=1: start the services with eval "$(infra/local/up)"');
      return value.replace(/\/+$/, '');
    },
  };
}

/** A database name no other test (or run) uses. */
export const uniqueDatabase = (name: string): string => sqlIdentifier(`test_${name.replace(/[^A-Za-z0-9_]/g, '_')}_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`);

/** Drops `database` through a client of its own (the test's may be closed or pointed at a stopped proxy). */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const clickhouse: ClickHouse = openClickHouse({ url: serverUrl });
  try {
    await clickhouse.command(`DROP DATABASE IF EXISTS ${sqlIdentifier(database)}`);
  } finally {
    await clickhouse.close();
  }
}

/**
 * A TCP proxy to the server of `target` on a port of its own, which a test can
 * take down (refusing connections and cutting the open ones: ClickHouse is
 * unreachable) and bring back on the same port.
 */
export async function openOutageProxy(target: string): Promise<{ url: string; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let listenPort = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(Number(port || 80), hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(listenPort, '127.0.0.1', () => {
        const address = s.address();
        if (typeof address === 'object' && address) listenPort = address.port;
        server = s;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      for (const socket of sockets) socket.destroy();
      if (!s) return resolve();
      s.close(() => resolve());
    });
  await listen();
  return { url: `http://127.0.0.1:${listenPort}`, down: stop, up: listen, close: stop };
}

/** Waits until ClickHouse has finished every mutation of `database`.processor_state (compaction's ALTER … DELETE). */
export async function waitForStateMutations(clickhouse: ClickHouse, database: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await pendingStateMutations(clickhouse, database)) > 0) {
    if (Date.now() > deadline) throw new Error(`mutations of ${database}.processor_state still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
