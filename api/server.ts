import { buildApp, type App, type AppOptions } from './app.ts';
import type { Config } from './config.ts';
import { openPlatform, type Platform, type PlatformOptions } from './platform.ts';
import { wireApi, type ApiWiring } from './wiring.ts';

export interface StartOptions {
  /** Plugs command services and route plugins in; default `wireApi` (api/wiring.ts). */
  wiring?: (platform: Platform) => ApiWiring;
  logger?: AppOptions['logger'];
  /** How the platform is opened; `novacron start --role api` says `{ analytics: 'read' }`. */
  platform?: PlatformOptions;
}

export interface RunningServer {
  app: App;
  platform: Platform;
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /**
   * Stops accepting connections, lets in-flight requests finish (new requests
   * on open connections answer 503 NC_SHUTTING_DOWN), then closes the app and
   * the platform. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** Opens the platform, builds the app and listens on NOVACRON_HOST:NOVACRON_PORT. */
export async function startServer(config: Config, { wiring = wireApi, logger, platform: options }: StartOptions = {}): Promise<RunningServer> {
  const platform = openPlatform(config, options);
  let app: App | undefined;
  try {
    const { plugins, tenantExists } = wiring(platform);
    app = buildApp({ platform, config, tenantExists, extraPlugins: plugins, logger });
    const url = await app.listen({ host: config.host, port: config.port });
    const started = app;
    let closed: Promise<void> | undefined;
    return {
      app: started,
      platform,
      url,
      close: () =>
        (closed ??= (async () => {
          // A client that stops sending mid-request would hold the close for ever: after the grace period its connection is cut.
          const cut = setTimeout(() => started.server.closeAllConnections(), config.shutdownGraceMs);
          try {
            await started.close();
          } finally {
            clearTimeout(cut);
            await platform.close();
          }
        })()),
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await platform.close();
    throw error;
  }
}

/**
 * Graceful shutdown on SIGTERM and SIGINT: the first signal closes the server
 * (in-flight requests finish) and resolves with exit code 0 (1 if closing
 * failed); a second signal exits at once with code 1.
 */
export function closeOnSignals(server: RunningServer, say: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        say(`${signal} again: exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      say(`${signal}: letting in-flight requests finish, then stopping (send it again to exit at once)`);
      server.close().then(
        () => {
          say('NovaCron stopped');
          resolve(0);
        },
        (error: unknown) => {
          server.app.log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
