/**
 * `novacron start --role relay`: the relay alone, with /metrics and /healthz
 * on NOVACRON_HOST:NOVACRON_PORT. SIGTERM or SIGINT lets the batch in flight
 * finish, then stops (exit 0); an error the relay cannot retry exits 1.
 */
import { createServer } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { EventStore } from '../../streams/eventstore/index.ts';
import { consoleLog, type KafkaSettings, type Log } from '../../streams/kafka/index.ts';
import { createRelayFromSettings } from './from-settings.ts';
import { registerRelayMetrics } from './metrics.ts';

export interface RelayRoleOptions {
  store: EventStore;
  settings: KafkaSettings;
  dataDir: string;
  host: string;
  port: number;
  log?: Log;
  say?: (line: string) => void;
}

export async function runRelayRole({ store, settings, dataDir, host, port, log = consoleLog, say = (line) => console.log(line) }: RelayRoleOptions): Promise<number> {
  let failed: (error: unknown) => void = () => undefined;
  const failure = new Promise<unknown>((resolve) => (failed = resolve));
  const relay = createRelayFromSettings({ store, settings, dataDir, log, onFailed: (error) => failed(error) });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerRelayMetrics(registry, relay);

  const server = createServer((request, response) => {
    void (async () => {
      if (request.url === '/metrics') {
        response.writeHead(200, { 'Content-Type': registry.contentType }).end(await registry.metrics());
      } else if (request.url === '/healthz') {
        const status = await relay.status();
        response.writeHead(status.state === 'failed' || status.state === 'stopped' || status.state === 'disconnected' ? 503 : 200, { 'Content-Type': 'application/json' }).end(JSON.stringify(status));
      } else {
        response.writeHead(404).end();
      }
    })().catch((error: unknown) => {
      // A status that cannot be read is an unhealthy relay: 503 with the reason, never a bare 500.
      if (response.headersSent) return void response.end();
      const message = error instanceof Error ? error.message : String(error);
      const code = typeof (error as { code?: unknown } | null)?.code === 'string' ? (error as { code: string }).code : 'NC_STORE_UNAVAILABLE';
      response.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ state: 'unknown', lastError: { code, message } }));
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const address = server.address();
  const url = typeof address === 'object' && address !== null ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);

  await relay.start();
  say(`NovaCron relay publishing to Kafka ${settings.brokers?.join(',')} (topics ${settings.topicPrefix}.{tenant,vm,capacity}.events)`);
  say(`  metrics      ${url}/metrics (novacron_relay_lag_events), status ${url}/healthz`);
  say('  stop         Ctrl-C or SIGTERM (the batch in flight finishes first)');

  const signal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const outcome = await Promise.race([signal.then((s) => ({ signal: s })), failure.then((error) => ({ error }))]);
  if ('signal' in outcome) say(`${outcome.signal}: finishing the batch in flight, then stopping`);
  await relay.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if ('error' in outcome) {
    const error = outcome.error as { code?: string; message?: string };
    say(`relay stopped: ${error.code ?? 'error'}: ${error.message ?? String(outcome.error)}`);
    return 1;
  }
  say('NovaCron relay stopped');
  return 0;
}
