import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App, type AppOptions } from '../app.ts';
import { loadJwtSecret } from '../auth/jwt-secret.ts';
import { signToken } from '../auth/tokens.ts';
import { loadConfig, type Config } from '../config.ts';
import { openPlatform, type Platform } from '../platform.ts';

export interface TestApp {
  app: App;
  config: Config;
  platform: Platform;
  dataDir: string;
  /** The JWT secret the app verifies with. */
  secret: string;
  /** `Authorization` headers of fresh tokens. */
  asOperator(subject?: string): { authorization: string };
  asTenant(tenantId: string, role?: 'tenant-admin' | 'tenant-user', subject?: string): { authorization: string };
  close(): Promise<void>;
}

/**
 * An app on its own temporary data dir (removed by `close`), with a silent
 * logger unless one is given. Tenants `acme` and `globex` exist.
 */
export function testApp(options: Partial<Omit<AppOptions, 'platform' | 'config'>> & { env?: Record<string, string> } = {}): TestApp {
  const dataDir = mkdtempSync(join(tmpdir(), 'novacron-api-'));
  const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal', ...options.env });
  const platform = openPlatform(config);
  const app = buildApp({
    platform,
    config,
    logger: false,
    tenantExists: async (id) => id === 'acme' || id === 'globex',
    ...options,
  });
  const secret = loadJwtSecret({ value: config.jwtSecret, dataDir });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return {
    app,
    config,
    platform,
    dataDir,
    secret,
    asOperator: (subject = 'op') => bearer(signToken(secret, { subject, role: 'operator', ttlSeconds: 300 })),
    asTenant: (tenantId, role = 'tenant-admin', subject = 'someone') => bearer(signToken(secret, { subject, role, tenantId, ttlSeconds: 300 })),
    async close() {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
