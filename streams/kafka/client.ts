/**
 * Kafka and schema-registry clients as NovaCron opens them, and how their
 * failures become NovaCron errors.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel as kafkaLogLevels, type KafkaConfig, type LogEntry, type logCreator, type SASLOptions } from 'kafkajs';
import { pino, type DestinationStream } from 'pino';
import { NovaCronError, isNovaCronError } from '../errors/index.ts';
import type { KafkaSecurity } from './settings.ts';

/** Where connectors send their log lines (pino's `app.log` fits). */
export interface Log {
  debug?(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLog: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * JSON lines through pino, the logger Fastify uses, so a role without the HTTP API
 * (`novacron start --role relay|processor`) logs exactly as the API does (`"level":30`…).
 */
export function createJsonLog(level: string = 'info', destination?: DestinationStream): Log {
  if (!(LEVELS as readonly string[]).includes(level)) throw new TypeError(`createJsonLog: level must be one of ${LEVELS.join(', ')}`);
  const logger = destination ? pino({ level }, destination) : pino({ level });
  return {
    debug: (fields, msg) => logger.debug(fields, msg),
    info: (fields, msg) => logger.info(fields, msg),
    warn: (fields, msg) => logger.warn(fields, msg),
    error: (fields, msg) => logger.error(fields, msg),
  };
}

let defaultLog: Log | undefined;
/** JSON lines on stdout at NOVACRON_LOG_LEVEL (default info), for processes without the API's logger. */
export const consoleLog: Log = {
  debug: (fields, msg) => jsonLog().debug?.(fields, msg),
  info: (fields, msg) => jsonLog().info(fields, msg),
  warn: (fields, msg) => jsonLog().warn(fields, msg),
  error: (fields, msg) => jsonLog().error(fields, msg),
};
function jsonLog(): Log {
  const level = process.env.NOVACRON_LOG_LEVEL ?? 'info';
  defaultLog ??= createJsonLog((LEVELS as readonly string[]).includes(level) ? level : 'info');
  return defaultLog;
}

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

/**
 * Protocol errors kafkajs logs at error level on every response that carries them, then
 * retries by itself: the coordinator or leader is being found or elected (each start of a
 * group or transaction meets one). Logged at info; a failure that outlasts the retries
 * reaches the caller, which logs it as its own error.
 */
const TRANSIENT = [
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  'This server does not host this topic-partition',
  'The group is rebalancing, so a rejoin is needed',
];

/**
 * Where a kafkajs log entry goes: kafkajs's errors and warnings stay errors and warnings,
 * except transient protocol errors it retries (info) and known noise (debug); its info
 * chatter (joins, starts, stops) is debug.
 */
export function kafkaLogLevel(level: number, entry: { message: string; error?: unknown }): 'error' | 'warn' | 'info' | 'debug' {
  const { message } = entry;
  const error = typeof entry.error === 'string' ? entry.error : '';
  // The relay bounds its producer's retries on purpose: a send that still fails is
  // handled as a crash (new producer, resume from what Kafka holds), which keeps
  // exactly-once without relying on one producer session. kafkajs warns regardless.
  if (message.startsWith('Limiting retries for the idempotent producer')) return 'debug';
  // Right after a commit the coordinator answers the next transaction's first request with
  // CONCURRENT_TRANSACTIONS until the commit's markers are written; kafkajs retries it (and
  // logs it as an error).
  if (`${message} ${error}`.includes('another concurrent operation on the same transaction')) return 'debug';
  if (level <= kafkaLogLevels.WARN && TRANSIENT.some((text) => error === text || message.includes(text))) return 'info';
  if (level <= kafkaLogLevels.ERROR) return 'error';
  if (level === kafkaLogLevels.WARN) return 'warn';
  return 'debug';
}

/** The kafkajs logCreator that sends its entries to `log` at the levels of kafkaLogLevel. */
export function kafkaLogCreator(log: Log): logCreator {
  return () =>
    ({ level, namespace, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...fields } = entry;
      const line = { component: 'kafkajs', namespace, ...fields };
      const to = kafkaLogLevel(level, entry);
      if (to === 'debug') log.debug?.(line, message);
      else log[to](line, message);
    };
}

/** A kafkajs client whose log entries go to `log` (see kafkaLogLevel). */
export function createKafkaClient({ brokers, clientId = 'novacron', log = silentLog, security }: KafkaClientOptions): Kafka {
  if (!Array.isArray(brokers) || brokers.length === 0) throw new TypeError('createKafkaClient: brokers must be a non-empty list of host:port');
  return new Kafka({
    clientId,
    brokers: [...brokers],
    ...(security === undefined ? {} : kafkaSecurityOptions(security)),
    // INFO: its info entries are logged at debug (kafkajs's own debug level is every request).
    logLevel: log.debug ? kafkaLogLevels.INFO : kafkaLogLevels.WARN,
    logCreator: kafkaLogCreator(log),
    retry: { initialRetryTime: 200, retries: 6, maxRetryTime: 5_000 },
  });
}

export function createSchemaRegistry(url: string, clientId = 'novacron'): SchemaRegistry {
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new TypeError('createSchemaRegistry: url must be an http(s) URL');
  return new SchemaRegistry({ host: url.replace(/\/+$/, ''), clientId, retry: { retries: 3, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 2 } });
}

/**
 * Node's fetch rejects with a TypeError "fetch failed" (the network error as its
 * cause) when the server cannot be reached: no programming error, a registry down.
 */
const isFetchFailure = (error: unknown): boolean => error instanceof TypeError && error.message === 'fetch failed';

/**
 * A failure talking to Kafka or the registry, as NC_KAFKA_UNAVAILABLE
 * (retriable, the cause kept). NovaCron errors and programming errors pass through.
 */
export function kafkaUnavailable(error: unknown, doing: string): unknown {
  if (isNovaCronError(error) || (error instanceof TypeError && !isFetchFailure(error)) || error instanceof RangeError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  const reason = error instanceof Error ? `${error.message}${isFetchFailure(error) && cause instanceof Error ? ` (${cause.message})` : ''}` : String(error);
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
