import { parseArgs } from 'node:util';
import { isNovaCronError } from '../streams/errors/index.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { cliUser, recordCliAuditIn } from './cli-audit.ts';
import { isRole, isTenantRole } from './auth/principal.ts';
import { parseTtl, signToken } from './auth/tokens.ts';
import { loadConfig, withoutCredentials } from './config.ts';
import { TENANT_ID_PATTERN } from './http/ids.ts';

const usage = `usage: novacron <command>

commands:
  start     run the HTTP API (NOVACRON_HOST:NOVACRON_PORT, default 127.0.0.1:8080) on the embedded event store,
            and the Kafka relay beside it when NOVACRON_KAFKA_BROKERS is set
              novacron start [--role all|api|relay]   (all: the default; api: the API without the relay
              and without the analytics processor, reading analytics from ClickHouse; relay: the relay
              alone, with /metrics and /healthz on NOVACRON_HOST:NOVACRON_PORT)
              novacron start --role processor --processors shard-map,routing-table   (those projections'
              processors fed from Kafka, as consumer groups; /metrics and /healthz only)
              novacron start --role processor --processors analytics   (the analytics projection alone:
              the event store's log into ClickHouse, NOVACRON_CLICKHOUSE_URL; one per ClickHouse database;
              /metrics and /healthz only)
  kafka     novacron kafka init: create the topics and register the event schemas (idempotent)
            novacron kafka status: what Kafka holds against the event store (published, head, lag)
  token     print a JWT for the API, signed with NOVACRON_JWT_SECRET or <data dir>/jwt.secret
              novacron token --role operator [--sub <name>] [--ttl 1h]
              novacron token --role tenant-admin|tenant-user --tenant <id> [--sub <name>] [--ttl 1h]
            --ttl is <n>s, <n>m, <n>h or <n>d (default 1h)
  keys      novacron keys status: the current master key and how many tenant data keys it wraps
            novacron keys rotate-master: rewrap every tenant data key under a new master key, servers
              running (no event is re-encrypted); with NOVACRON_MASTER_KEY, set the new key there and the
              old one in NOVACRON_MASTER_KEY_PREVIOUS on every process first; with <data dir>/master.key a
              new key is generated in the file
            novacron keys rotate-tenant <tenant id>: a new version of that tenant's data key for new data
  status    list each projection's processor with its checkpoint, lag and parked events
  replay    novacron replay <projection> [--force]: rebuild it from the log into a new generation while
            the current one keeps serving, then switch (a progress bar on a terminal); a generation that
            parked more events or holds far fewer rows than the live one is not switched in unless --force
  help      this text`;

class UsageError extends Error {}

async function token(args: string[]): Promise<number> {
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
  const { role, tenant, sub = cliUser(), ttl = '1h' } = values;
  if (!isRole(role)) throw new UsageError('--role must be operator, tenant-admin or tenant-user');
  if (isTenantRole(role) && tenant === undefined) throw new UsageError(`--tenant <id> is required for --role ${role}`);
  if (!isTenantRole(role) && tenant !== undefined) throw new UsageError('--tenant is only for tenant-admin and tenant-user tokens');
  if (tenant !== undefined && !new RegExp(TENANT_ID_PATTERN).test(tenant)) throw new UsageError('--tenant must be letters, digits and ._:@- (at most 193 characters)');
  if (sub.length === 0 || sub.length > 200) throw new UsageError('--sub must be 1 to 200 characters');
  const ttlSeconds = parseTtl(ttl);
  if (ttlSeconds === undefined) throw new UsageError('--ttl must be a positive duration such as 90s, 15m, 1h or 30d');
  const config = loadConfig();
  if (ttlSeconds > config.jwt.maxTtlSeconds) throw new UsageError(`--ttl must be at most NOVACRON_JWT_MAX_TTL_SECONDS (${config.jwt.maxTtlSeconds} s): the server refuses longer-lived tokens`);
  const secret = loadJwtSecret({ value: config.jwtSecret, dataDir: config.dataDir });
  const { issuer, audience } = config.jwt;
  const signed = signToken(secret, { subject: sub, role, tenantId: tenant, ttlSeconds, issuer, audience });
  // Issuing a credential is a privileged action: recorded (never the token) before it is shown.
  await recordCliAuditIn(config, { action: 'token.issued', tenantId: tenant ?? null, target: sub, details: `role ${role}, ttl ${ttlSeconds} s` });
  process.stdout.write(`${signed}\n`);
  return 0;
}

const ROLES = ['all', 'api', 'relay', 'processor'] as const;

async function start(args: string[]): Promise<number> {
  let role: (typeof ROLES)[number] = 'all';
  let processors: string | undefined;
  try {
    const { values } = parseArgs({ args, allowPositionals: false, strict: true, options: { role: { type: 'string' }, processors: { type: 'string' } } });
    const found = ROLES.find((r) => r === values.role);
    if (values.role !== undefined && found === undefined) throw new UsageError(`--role must be ${ROLES.join(', ')}`);
    role = found ?? 'all';
    processors = values.processors;
    if (processors !== undefined && role !== 'processor') throw new UsageError('--processors is only for --role processor');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}; settings are NOVACRON_* environment variables`);
  }
  const config = loadConfig();
  if (role === 'processor') {
    // The analytics projection reads the event store's log into ClickHouse, not Kafka: a process of its own.
    const requested = (processors ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
    if (requested.includes('analytics')) {
      if (requested.some((name) => name !== 'analytics')) {
        throw new UsageError('--processors analytics reads the event store, the others Kafka: run it alone (--processors analytics)');
      }
      const { runAnalyticsRole } = await import('./analytics-role.ts');
      return runAnalyticsRole(config);
    }
    const { parseProcessors, runProcessorRole } = await import('./processor-role.ts');
    let names: string[];
    try {
      names = parseProcessors(processors);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    return runProcessorRole(config, names);
  }
  if (role === 'relay') {
    if (config.kafka.brokers === undefined) throw new UsageError('--role relay needs NOVACRON_KAFKA_BROKERS (and NOVACRON_SCHEMA_REGISTRY_URL)');
    const [{ openPlatform }, { runRelayRole }] = await Promise.all([import('./platform.ts'), import('../connectors/relay/role.ts')]);
    const platform = openPlatform(config);
    try {
      return await runRelayRole({ store: platform.store, settings: config.kafka, dataDir: config.dataDir, host: config.host, port: config.port });
    } finally {
      await platform.close();
    }
  }
  // Loaded on demand: `novacron token` needs none of the server.
  const [{ closeOnSignals, startServer }, { wireApi }] = await Promise.all([import('./server.ts'), import('./wiring.ts')]);
  // --role api: the API alone, scaling horizontally; the relay and the analytics processor run once, elsewhere (it reads ClickHouse).
  const relay = role === 'all' && config.kafka.brokers !== undefined;
  const analytics = role === 'all' ? 'run' : 'read';
  const server = await startServer(config, { wiring: (platform) => wireApi(platform, { relay }), platform: { analytics } });
  // `novacron status` on this data dir asks this server for the processors it runs.
  const { announceServer } = await import('./running-servers.ts');
  announceServer(config.dataDir, { role, url: server.url });
  const head = await server.platform.store.headPosition();
  console.log(`NovaCron API listening on ${server.url}`);
  const eventStore = config.esdbUrl !== undefined ? `EventStoreDB ${withoutCredentials(config.esdbUrl)}` : `${config.dataDir}/events.db (sync=${config.sqliteSync})`;
  console.log(`  event store  ${eventStore}, ${head} events`);
  if (config.redis.url !== undefined) console.log(`  query cache  L1 + L2 on Redis ${withoutCredentials(config.redis.url)}, invalidations on channel ${config.redis.prefix}.invalidations`);
  if (relay) console.log(`  relay        to Kafka ${config.kafka.brokers?.join(',')}, topics ${config.kafka.topicPrefix}.{tenant,vm,capacity}.events (novacron kafka status)`);
  if (config.clickhouse.url !== undefined) {
    const where = `ClickHouse ${withoutCredentials(config.clickhouse.url)}, database ${config.clickhouse.database}`;
    console.log(analytics === 'run' ? `  analytics    into ${where} (novacron status)` : `  analytics    read from ${where}, written by --role processor --processors analytics`);
  }
  console.log(`  API docs     ${server.url}/docs`);
  console.log('  get a token  npx novacron token --role operator');
  console.log('  stop         Ctrl-C or SIGTERM (in-flight requests finish first)');
  return closeOnSignals(server, (line) => console.log(line));
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'kafka': {
      const [sub, ...extra] = rest;
      if ((sub !== 'init' && sub !== 'status') || extra.length > 0) throw new UsageError('kafka takes one argument: init or status');
      const config = loadConfig();
      if (config.kafka.brokers === undefined) throw new UsageError(`kafka ${sub} needs NOVACRON_KAFKA_BROKERS and NOVACRON_SCHEMA_REGISTRY_URL`);
      const commands = await import('../connectors/relay/cli.ts');
      if (sub === 'init') return commands.kafkaInit(config.kafka);
      const { openPlatform } = await import('./platform.ts');
      const platform = openPlatform(config);
      try {
        return await commands.kafkaStatus(config.kafka, platform.store);
      } finally {
        await platform.close();
      }
    }
    case 'token':
      return token(rest);
    case 'keys': {
      const [sub, ...extra] = rest;
      const keys = await import('./keys.ts');
      const print = (line: string) => console.log(line);
      if (sub === 'status' && extra.length === 0) return keys.keysStatus(loadConfig(), print);
      if (sub === 'rotate-master' && extra.length === 0) return keys.rotateMaster(loadConfig(), print);
      if (sub === 'rotate-tenant' && extra.length === 1 && new RegExp(TENANT_ID_PATTERN).test(extra[0]!)) return keys.rotateTenant(loadConfig(), extra[0]!, print);
      if (sub === 'rotate-tenant') throw new UsageError('keys rotate-tenant takes one argument, a tenant id (letters, digits and ._:@-)');
      throw new UsageError('keys takes status, rotate-master or rotate-tenant <tenant id>');
    }
    case 'status': {
      if (rest.length > 0) throw new UsageError('status takes no arguments');
      const ops = await import('./cli-ops.ts');
      return ops.status();
    }
    case 'replay': {
      const force = rest.includes('--force');
      const names = rest.filter((a) => a !== '--force');
      if (names.length !== 1 || names[0]!.startsWith('-')) throw new UsageError('replay takes one argument, the projection to rebuild, and optionally --force');
      const ops = await import('./cli-ops.ts');
      return ops.replay(names[0], { force });
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
