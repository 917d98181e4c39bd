// docker-compose.yml cannot be run here (no Docker engine on our machines):
// this checks what can be checked without one. It parses as YAML (with the
// merge keys Compose supports), every service can be started (an image or a
// build), every dependency names a service, no host port is published twice,
// every NOVACRON_* variable it sets is described in the README and accepted by
// loadConfig, and the NovaCron roles run the documented commands.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../api/config.ts';
import { embeddedProjections } from '../projections/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const document = parseDocument(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true, uniqueKeys: true });

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
}

const compose = document.toJS({ maxAliasCount: -1 }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = Object.entries(compose.services ?? {});
const NOVACRON_ROLES = ['kafka-init', 'api', 'relay', 'processor', 'analytics'];

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const at = entry.indexOf('=');
      return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** `${NAME:-default}` as Compose substitutes it when NAME is unset. */
const substitute = (value: string): string => value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

describe('docker-compose.yml', () => {
  it('is valid YAML', () => {
    expect(document.errors).toEqual([]);
    expect(services.length).toBeGreaterThan(0);
  });

  it('has the engines and the NovaCron roles', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['kafka', 'schema-registry', 'registry-db', 'kurrentdb', 'redis', 'clickhouse', ...NOVACRON_ROLES].sort(),
    );
  });

  it('gives every service an image or a build', () => {
    for (const [name, service] of services) {
      expect(typeof service.image === 'string' || service.build !== undefined, `${name} has neither image nor build`).toBe(true);
    }
  });

  it('names only services in depends_on, and volumes it declares', () => {
    for (const [name, service] of services) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(compose.services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
    }
    for (const [name, service] of services) {
      for (const volume of (service as { volumes?: string[] }).volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(compose.volumes?.[source], `${name} mounts undeclared volume ${source}`).toBeDefined();
      }
    }
  });

  it('publishes each host port once', () => {
    const hostPorts = services.flatMap(([, s]) => (s.ports ?? []).map((p) => String(p).split(':').slice(-2, -1)[0] ?? String(p)));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('sets only NOVACRON_* variables the README describes, with values loadConfig accepts', () => {
    const set = new Set<string>();
    for (const role of NOVACRON_ROLES) {
      const env = environmentOf(compose.services[role] as Service);
      const novacron = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('NOVACRON_')).map(([k, v]) => [k, substitute(v)]));
      for (const name of Object.keys(novacron)) set.add(name);
      expect(() => loadConfig(novacron), `${role}'s settings`).not.toThrow();
    }
    for (const name of ['NOVACRON_KAFKA_BROKERS', 'NOVACRON_SCHEMA_REGISTRY_URL', 'NOVACRON_ESDB_URL', 'NOVACRON_REDIS_URL', 'NOVACRON_CLICKHOUSE_URL']) {
      expect(set.has(name), `${name} is set`).toBe(true);
    }
    const undocumented = [...set].filter((name) => !readme.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });

  it('runs the roles with the documented commands', () => {
    const command = (role: string) => {
      const c = compose.services[role]?.command;
      return Array.isArray(c) ? c.join(' ') : String(c);
    };
    expect(command('api')).toBe('node bin/novacron.mjs start --role api'); // the relay service publishes: not a second relay in the API
    expect(command('relay')).toBe('node bin/novacron.mjs start --role relay');
    expect(command('kafka-init')).toBe('node bin/novacron.mjs kafka init');
    const processor = command('processor').match(/^node bin\/novacron\.mjs start --role processor --processors (\S+)$/);
    expect(processor).not.toBeNull();
    const known = embeddedProjections.map((p) => p.name);
    const named = (processor?.[1] ?? '').split(',');
    expect(named.filter((n) => !known.includes(n))).toEqual([]);
    // The API must not run the projections the processor role feeds from Kafka.
    expect(environmentOf(compose.services['api'] as Service)['NOVACRON_KAFKA_PROCESSORS']?.split(',').sort()).toEqual([...named].sort());
    // The analytics projection reads the event store, not Kafka: a processor of its own, the one writer of its database.
    expect(named).not.toContain('analytics');
    expect(command('analytics')).toBe('node bin/novacron.mjs start --role processor --processors analytics');
    const writers = services.filter(([, s]) => /--processors (\S+,)?analytics(,|$)/.test(Array.isArray(s.command) ? s.command.join(' ') : String(s.command)));
    expect(writers.map(([name]) => name)).toEqual(['analytics']);
  });

  it('gives the API and the analytics writer the same ClickHouse database: the API (--role api) reads what the one writer writes', () => {
    const api = environmentOf(compose.services['api'] as Service);
    const analytics = environmentOf(compose.services['analytics'] as Service);
    expect(api['NOVACRON_CLICKHOUSE_URL']).toBeDefined();
    expect(analytics['NOVACRON_CLICKHOUSE_URL']).toBe(api['NOVACRON_CLICKHOUSE_URL']);
    expect(analytics['NOVACRON_CLICKHOUSE_DATABASE']).toBe(api['NOVACRON_CLICKHOUSE_DATABASE']);
    expect(analytics['NOVACRON_DATA_DIR']).toBe(api['NOVACRON_DATA_DIR']);
  });
});
