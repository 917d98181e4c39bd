/**
 * Kafka and schema-registry clients as NovaCron opens them, and how their
 * failures become NovaCron errors.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel as kafkaLogLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { NovaCronError, isNovaCronError } from '../errors/index.ts';
import type { KafkaSecurity } from './settings.ts';

/** Where connectors send their log lines (pino's `app.log` fits). */
export interface Log {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLog: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** JSON lines on stdout/stderr, for processes without pino (`novacron start --role relay`). */
export const consoleLog: Log = {
  info: (fields, msg) => console.log(JSON.stringify({ level: 'info', time: Date.now(), ...fields, msg })),
  warn: (fields, msg) => console.error(JSON.stringify({ level: 'warn', time: Date.now(), ...fields, msg })),
  error: (fields, msg) => console.error(JSON.stringify({ level: 'error', time: Date.now(), ...fields, msg: msg })),
};

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId?: string;
  log?: Log;
  /** TLS and SASL (NOVACRON_KAFKA_SSL, NOVACRON_KAFKA_CA, NOVACRON_KAFKA_SASL_MECHANISM and its user and password); default neither. */
  security?: KafkaSecurity;
}

/** kafkajs' `ssl` and `sasl` options for these settings (the CA file is read here). */
export function kafkaSecurityOptions({ ssl, caPath, sasl }: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const tls = ssl || caPath !== undefined ? (caPath === undefined ? true : { ca: [readFileSync(caPath, 'utf8')] }) : undefined;
  return {
    ...(tls === undefined ? {} : { ssl: tls }),
    ...(sasl === null ? {} : { sasl: saslOption(sasl) }),
  };
}

function saslOption({ mechanism, username, password }: NonNullable<KafkaSecurity['sasl']>): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
    default: {
      const never: never = mechanism;
      throw new TypeError(`unknown SASL mechanism ${String(never)}`);
    }
  }
}

/** A kafkajs client whose own warnings and errors go to `log` (its info chatter is dropped). */
export function createKafkaClient({ brokers, clientId = 'novacron', log = silentLog, security }: KafkaClientOptions): Kafka {
  if (!Array.isArray(brokers) || brokers.length === 0) throw new TypeError('createKafkaClient: brokers must be a non-empty list of host:port');
  return new Kafka({
    clientId,
    brokers: [...brokers],
    ...(security === undefined ? {} : kafkaSecurityOptions(security)),
    logLevel: kafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, namespace, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...fields } = entry;
        // The relay bounds its producer's retries on purpose: a send that still fails is
        // handled as a crash (new producer, resume from what Kafka holds), which keeps
        // exactly-once without relying on one producer session. kafkajs warns regardless.
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        // Right after a commit the coordinator answers the next transaction's first request with
        // CONCURRENT_TRANSACTIONS until the commit's markers are written; kafkajs retries it (and
        // logs it as an error).
        const text = `${message} ${String((fields as { error?: unknown }).error ?? '')}`;
        if (text.includes('another concurrent operation on the same transaction')) return;
        const line = { component: 'kafkajs', namespace, ...fields };
        if (level <= kafkaLogLevel.ERROR) log.error(line, message);
        else log.warn(line, message);
      },
    retry: { initialRetryTime: 200, retries: 6, maxRetryTime: 5_000 },
  });
}

export function createSchemaRegistry(url: string, clientId = 'novacron'): SchemaRegistry {
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new TypeError('createSchemaRegistry: url must be an http(s) URL');
  return new SchemaRegistry({ host: url.replace(/\/+$/, ''), clientId, retry: { retries: 3, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 2 } });
}

/**
 * A failure talking to Kafka or the registry, as NC_KAFKA_UNAVAILABLE
 * (retriable, the cause kept). NovaCron errors and programming errors pass through.
 */
export function kafkaUnavailable(error: unknown, doing: string): unknown {
  if (isNovaCronError(error) || error instanceof TypeError || error instanceof RangeError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new NovaCronError('NC_KAFKA_UNAVAILABLE', `${doing}: ${reason}`, { retriable: true, cause: error, details: { doing } });
}

/** Runs `fn`, turning its failures into NC_KAFKA_UNAVAILABLE (see kafkaUnavailable). */
export async function talking<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw kafkaUnavailable(error, doing);
  }
}
