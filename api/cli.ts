import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { isNovaCronError } from '../streams/errors/index.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { isRole, isTenantRole } from './auth/principal.ts';
import { parseTtl, signToken } from './auth/tokens.ts';
import { loadConfig } from './config.ts';
import { TENANT_ID_PATTERN } from './http/ids.ts';

const usage = `usage: novacron <command>

commands:
  start     run the HTTP API (NOVACRON_HOST:NOVACRON_PORT, default 127.0.0.1:8080) on the embedded event store
  token     print a JWT for the API, signed with NOVACRON_JWT_SECRET or <data dir>/jwt.secret
              novacron token --role operator [--sub <name>] [--ttl 1h]
              novacron token --role tenant-admin|tenant-user --tenant <id> [--sub <name>] [--ttl 1h]
            --ttl is <n>s, <n>m, <n>h or <n>d (default 1h)
  status    list each projection's processor with its checkpoint, lag and parked events
  replay    novacron replay <projection>: rebuild it from the log into a new generation while the
            current one keeps serving, then switch (a progress bar on a terminal)
  help      this text`;

class UsageError extends Error {}

function defaultSubject(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return 'cli';
  }
}

function token(args: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      strict: true,
      options: { role: { type: 'string' }, tenant: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string' } },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { role, tenant, sub = defaultSubject(), ttl = '1h' } = values;
  if (!isRole(role)) throw new UsageError('--role must be operator, tenant-admin or tenant-user');
  if (isTenantRole(role) && tenant === undefined) throw new UsageError(`--tenant <id> is required for --role ${role}`);
  if (!isTenantRole(role) && tenant !== undefined) throw new UsageError('--tenant is only for tenant-admin and tenant-user tokens');
  if (tenant !== undefined && !new RegExp(TENANT_ID_PATTERN).test(tenant)) throw new UsageError('--tenant must be letters, digits and ._:@- (at most 193 characters)');
  if (sub.length === 0 || sub.length > 200) throw new UsageError('--sub must be 1 to 200 characters');
  const ttlSeconds = parseTtl(ttl);
  if (ttlSeconds === undefined) throw new UsageError('--ttl must be a positive duration such as 90s, 15m, 1h or 30d');
  const config = loadConfig();
  const secret = loadJwtSecret({ value: config.jwtSecret, dataDir: config.dataDir });
  process.stdout.write(`${signToken(secret, { subject: sub, role, tenantId: tenant, ttlSeconds })}\n`);
  return 0;
}

async function start(): Promise<number> {
  // Loaded on demand: `novacron token` needs none of the server.
  const { closeOnSignals, startServer } = await import('./server.ts');
  const config = loadConfig();
  const server = await startServer(config);
  const head = await server.platform.store.headPosition();
  console.log(`NovaCron API listening on ${server.url}`);
  console.log(`  event store  ${config.dataDir}/events.db (sync=${config.sqliteSync}), ${head} events`);
  console.log(`  API docs     ${server.url}/docs`);
  console.log('  get a token  npx novacron token --role operator');
  console.log('  stop         Ctrl-C or SIGTERM (in-flight requests finish first)');
  return closeOnSignals(server, (line) => console.log(line));
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'start':
      if (rest.length > 0) throw new UsageError(`start takes no arguments; settings are NOVACRON_* environment variables`);
      return start();
    case 'token':
      return token(rest);
    case 'status': {
      if (rest.length > 0) throw new UsageError('status takes no arguments');
      const ops = await import('./cli-ops.ts');
      return ops.status();
    }
    case 'replay': {
      if (rest.length !== 1) throw new UsageError('replay takes one argument: the projection to rebuild');
      const ops = await import('./cli-ops.ts');
      return ops.replay(rest[0]);
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`novacron: ${error.message}\n\n${usage}`);
      process.exit(2);
    }
    console.error(isNovaCronError(error) ? `novacron: ${error.code}: ${error.message}` : error);
    process.exit(1);
  },
);
