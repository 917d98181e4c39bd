/**
 * The environment for a `novacron` child process in a test: the parent's,
 * without the settings that would connect it to shared engines (Kafka, the
 * registry, EventStoreDB, Redis, ClickHouse) or fix its secrets, so the child
 * runs on the embedded default in its own data dir. (In CI those variables
 * are set for the integration suites.)
 */
export function embeddedChildEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^NOVACRON_(KAFKA_|SCHEMA_REGISTRY|ESDB|REDIS|CLICKHOUSE|JWT_SECRET|MASTER_KEY)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}
