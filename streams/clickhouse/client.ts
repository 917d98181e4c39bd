/**
 * The one way NovaCron talks to ClickHouse: `@clickhouse/client` over HTTP,
 * restricted to what ClickHouse 18.16 (the server our test machines install)
 * and current releases both accept:
 *
 * - results in JSONEachRow only (18.16 has no JSONCompact* formats; 64-bit
 *   integers arrive as strings, so read them through `Number()`);
 * - inserts as JSONEachRow with an explicit column list;
 * - no query parameters (`query_params` is sent as `param_<name>` settings,
 *   which 18.16 refuses with "Unknown setting"): values go through the
 *   literal helpers of escape.ts;
 * - no per-query `clickhouse_settings` (18.16 refuses settings it does not
 *   know, such as `async_insert`), no response compression by default (it works
 *   on 18.16 with `enable_http_compression`, but buys nothing on loopback);
 * - the client's own logger off: 18.16's exception text does not match the
 *   client's parser (no `(TYPE)` suffix), and every failure is reported here,
 *   once, as NC_CLICKHOUSE_UNAVAILABLE with the server's numeric code.
 *
 * Every failure, the network's or the server's, is NC_CLICKHOUSE_UNAVAILABLE
 * and retriable: a processor writing to ClickHouse retries (and shows the
 * error in its status) rather than park an event because of the store.
 */
import { readFileSync } from 'node:fs';
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { NovaCronError } from '../errors/index.ts';
import { sqlIdentifier, toClickHouseString } from './escape.ts';

export interface ClickHouseOptions {
  /** `http(s)://[user:password@]host:port` (NOVACRON_CLICKHOUSE_URL). */
  url: string;
  /** Longest a request may take (default 30 s). */
  requestTimeoutMs?: number;
  /** A PEM CA file to verify an https:// server with (NOVACRON_CLICKHOUSE_CA); unset: the system CAs. */
  caPath?: string | undefined;
}

/** `@clickhouse/client`'s `tls` for NOVACRON_CLICKHOUSE_URL / NOVACRON_CLICKHOUSE_CA: the CA file (read here) for an https:// URL. */
export function clickhouseTlsOptions({ url, caPath }: { url: string; caPath?: string | undefined }): { tls?: { ca_cert: Buffer } } {
  if (caPath === undefined) return {};
  if (!/^https:\/\//i.test(url)) throw new TypeError('clickhouseTlsOptions: a CA is only used over TLS (an https:// URL)');
  return { tls: { ca_cert: readFileSync(caPath) } };
}

/** A row to insert: its own enumerable properties are the columns. */
export type ClickHouseRow = object;

export interface ClickHouse {
  /** The URL without its credentials, for messages. */
  readonly endpoint: string;
  /** Runs a SELECT and returns its rows (JSONEachRow). */
  query<Row = Record<string, unknown>>(sql: string): Promise<Row[]>;
  /** Runs a statement without a result (DDL, ALTER). */
  command(sql: string): Promise<void>;
  /** Inserts rows into `database.table` with an explicit column list, as JSONEachRow. */
  insert(database: string, table: string, columns: readonly string[], rows: readonly ClickHouseRow[]): Promise<void>;
  /** true when the server answers `/ping`. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** `http://user:pw@host:8123` → `http://***@host:8123`. */
export const endpointOf = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');

/** The numeric code of a ClickHouse exception (`Code: 60, e.displayText() = …` on 18.16, `Code: 60. DB::Exception: …` later). */
export function serverCodeOf(error: unknown): number | undefined {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const match = /^\s*Code: (\d+)[.,]/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** Any failure of a ClickHouse call, as the retriable NC_CLICKHOUSE_UNAVAILABLE. */
export function clickhouseUnavailable(error: unknown, endpoint: string, doing: string): NovaCronError {
  if (error instanceof NovaCronError) return error;
  const serverCode = serverCodeOf(error);
  const networkCode = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message.split('\n')[0]?.slice(0, 500) : String(error);
  return new NovaCronError('NC_CLICKHOUSE_UNAVAILABLE', `ClickHouse at ${endpoint} failed ${doing}: ${reason}`, {
    retriable: true,
    cause: error,
    details: { endpoint, ...(serverCode !== undefined ? { serverCode } : {}), ...(typeof networkCode === 'string' ? { networkCode } : {}) },
  });
}

/** Strings of a row as ClickHouse can store them (see toClickHouseString). */
function storable(row: ClickHouseRow): ClickHouseRow {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(row) as Array<[string, unknown]>) {
    if (typeof value !== 'string') continue;
    const fixed = toClickHouseString(value);
    if (fixed !== value) (copy ??= { ...row })[key] = fixed;
  }
  return copy ?? row;
}

export function openClickHouse({ url, requestTimeoutMs = 30_000, caPath }: ClickHouseOptions): ClickHouse {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw new TypeError('openClickHouse: url must be an http(s) URL');
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) throw new TypeError('openClickHouse: requestTimeoutMs must be a positive integer');
  const endpoint = endpointOf(url);
  const client: ClickHouseClient = createClient({
    url,
    request_timeout: requestTimeoutMs,
    application: 'novacron',
    compression: { request: false, response: false },
    log: { level: ClickHouseLogLevel.OFF },
    ...clickhouseTlsOptions({ url, caPath }),
  });
  const guarded = async <T>(doing: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw clickhouseUnavailable(error, endpoint, doing);
    }
  };
  const firstLine = (sql: string) => sql.trim().split('\n')[0]?.slice(0, 80) ?? '';

  return {
    endpoint,
    query: <Row>(sql: string) =>
      guarded(`query ${JSON.stringify(firstLine(sql))}`, async () => {
        const result = await client.query({ query: sql, format: 'JSONEachRow' });
        return result.json<Row>();
      }),
    command: (sql) =>
      guarded(`statement ${JSON.stringify(firstLine(sql))}`, async () => {
        await client.command({ query: sql });
      }),
    insert: (database, table, columns, rows) =>
      guarded(`insert into ${database}.${table}`, async () => {
        if (rows.length === 0) return;
        await client.insert({
          table: `${sqlIdentifier(database)}.${sqlIdentifier(table)}`,
          columns: columns.map(sqlIdentifier) as [string, ...string[]],
          format: 'JSONEachRow',
          values: rows.map(storable),
        });
      }),
    async ping() {
      try {
        return (await client.ping()).success;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}
