import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { recordAudit, type AuditEntry } from '../commands/audit/audit-log.ts';
import type { EventStore } from '../streams/eventstore/index.ts';
import type { Config } from './config.ts';

/** Who runs the command line: the OS user, as an operator (the same name `novacron token` defaults `--sub` to). */
export function cliUser(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return 'cli';
  }
}

/** Records what a command-line action did in the audit trail, as `operator:<OS user>` from `cli@<host>`. */
export function recordCliAudit(store: EventStore, entry: Omit<AuditEntry, 'source'>): Promise<unknown> {
  return recordAudit(store, { ...entry, source: `cli@${hostname()}` }, { actor: `operator:${cliUser()}`, correlationId: randomUUID(), now: new Date() });
}

/** The same, for a command that has no event store open: opens the data dir's log (or EventStoreDB) for the one append. */
export async function recordCliAuditIn(config: Config, entry: Omit<AuditEntry, 'source'>): Promise<void> {
  const { openEventLog } = await import('./event-log.ts');
  const log = openEventLog(config);
  try {
    await recordCliAudit(log.store, entry);
  } finally {
    await log.close();
  }
}
