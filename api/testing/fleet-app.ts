import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../app.ts';
import { loadJwtSecret } from '../auth/jwt-secret.ts';
import { signToken } from '../auth/tokens.ts';
import { loadConfig, type Config } from '../config.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { wireApi } from '../wiring.ts';

export interface FleetApp {
  app: App;
  config: Config;
  platform: Platform;
  dataDir: string;
  operator: { authorization: string };
  tenant(tenantId: string, role?: 'tenant-admin' | 'tenant-user'): { authorization: string };
  /** POST/PUT/DELETE as the operator, failing the test on a non-2xx answer. */
  setup(method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * The whole API, wired as `npm start` wires it (or, with `role: 'api'`, as
 * `novacron start --role api`: no relay, analytics only read), on a temporary
 * data dir.
 */
export async function fleetApp(env: Record<string, string> = {}, { role = 'all', now }: { role?: 'all' | 'api'; now?: () => number } = {}): Promise<FleetApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'novacron-fleet-api-'));
  const config = loadConfig({ NOVACRON_DATA_DIR: dataDir, NOVACRON_SQLITE_SYNC: 'normal', ...env });
  const platform = openPlatform(config, { analytics: role === 'all' ? 'run' : 'read' });
  const wiring = role === 'all' ? wireApi(platform) : wireApi(platform, { relay: false });
  const app = buildApp({ platform, config, logger: false, tenantExists: wiring.tenantExists, extraPlugins: wiring.plugins, ...(now === undefined ? {} : { now }) });
  await app.ready();
  const secret = loadJwtSecret({ value: config.jwtSecret, dataDir });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const operator = bearer(signToken(secret, { subject: 'op', role: 'operator', ttlSeconds: 3600 }));
  return {
    app,
    config,
    platform,
    dataDir,
    operator,
    tenant: (tenantId, role = 'tenant-admin') => bearer(signToken(secret, { subject: `${role}-user`, role, tenantId, ttlSeconds: 3600 })),
    async setup(method, url, body) {
      const response = await app.inject({ method, url, headers: operator, ...(body === undefined ? {} : { payload: body as object }) });
      if (response.statusCode >= 300) throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body}`);
      return response.json();
    },
    async close() {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A region `eu-west` with a cluster, `nodes` nodes, and tenants `acme` and `globex` allowed there. */
export async function seedApi(
  f: FleetApp,
  { nodes = 2, vcpus = 32, quotaVms = 20 }: { nodes?: number; vcpus?: number; quotaVms?: number } = {},
): Promise<void> {
  await f.setup('POST', '/v1/regions', { id: 'eu-west', name: 'Dublin', lat: 53.35, lon: -6.26, complianceZone: 'eu', costPerVcpuHour: 0.021 });
  await f.setup('POST', '/v1/clusters', { id: 'euw-c1', regionId: 'eu-west' });
  for (let i = 0; i < nodes; i++) {
    await f.setup('POST', '/v1/nodes', { id: `euw-n${i}`, regionId: 'eu-west', clusterId: 'euw-c1', vcpus, memoryMiB: 262_144, diskGiB: 10_000 });
  }
  for (const id of ['acme', 'globex']) {
    await f.setup('POST', '/v1/tenants', {
      id,
      name: id,
      contactEmail: `ops@${id}.example`,
      quota: { vms: quotaVms, vcpus: 1000, memoryMiB: 10_000_000, diskGiB: 1_000_000 },
      allowedRegions: ['eu-west'],
    });
  }
}
