import { isNovaCronError } from '../streams/errors/index.ts';
import type { RoutePlugin } from './app.ts';
import type { Platform } from './platform.ts';

/**
 * What the HTTP API is given by the rest of NovaCron. The one place where
 * command services and route plugins are plugged in: `startServer` calls
 * `wireApi(platform)` and passes the result to `buildApp`.
 */
export interface ApiWiring {
  /** Route plugins (api/routes/*-commands.ts, query routes…), registered after auth, idempotency and errors. */
  plugins: RoutePlugin[];
  tenantExists: (tenantId: string) => Promise<boolean>;
}

export function wireApi(platform: Platform): ApiWiring {
  // Command services and route plugins go here, e.g.
  //   const tenants = createTenantCommands({ store: platform.store });
  //   plugins: [tenantCommandRoutes(tenants)], tenantExists: (id) => tenants.exists(id)
  return {
    plugins: [],
    tenantExists: (tenantId) => tenantStreamExists(platform, tenantId),
  };
}

/** Until the tenant read side is wired: a tenant exists when its stream does and does not end with TenantDeleted. */
async function tenantStreamExists(platform: Platform, tenantId: string): Promise<boolean> {
  try {
    const [last] = await platform.store.readStream(`tenant-${tenantId}`, { direction: 'backwards', maxCount: 1 });
    return last !== undefined && last.type !== 'TenantDeleted';
  } catch (error) {
    if (isNovaCronError(error, 'NC_STREAM_DELETED') || isNovaCronError(error, 'NC_STREAM_ID_INVALID')) return false;
    throw error; // the store is down: 503, not "no such tenant"
  }
}
