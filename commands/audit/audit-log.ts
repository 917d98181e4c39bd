/**
 * The audit trail: every privileged action — credentials created or revoked,
 * a tenant deleted, keys rotated, a projection replayed — recorded as an
 * AuditRecorded event (who: metadata.actor, when: metadata.occurredAt, what:
 * action and target, from where: source). An action on a tenant goes to its
 * stream `audit-<tenantId>`, which that tenant's admins read; a fleet-wide one
 * to `fleetaudit-log`. Like every event it is kept for ever, relayed to Kafka
 * (the tenant topic) and ClickHouse, and carries no secret.
 */
import type { AppendResult, EventStore, RecordedEvent } from '../../streams/eventstore/index.ts';
import type { AuditRecorded } from '../../schemas/generated/events.ts';

export const AUDIT_ACTIONS = [
  'api_key.created',
  'api_key.revoked',
  'token.issued',
  'tenant.deleted',
  'tenant_key.rotated',
  'master_key.rotated',
  'projection.replayed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The stream categories of the trail: a tenant's, and the fleet's. */
export const AUDIT_CATEGORY = 'audit';
export const FLEET_AUDIT_CATEGORY = 'fleetaudit';
export const AUDIT_CATEGORIES = [AUDIT_CATEGORY, FLEET_AUDIT_CATEGORY] as const;
export const FLEET_AUDIT_STREAM = `${FLEET_AUDIT_CATEGORY}-log`;

export const auditStreamOf = (tenantId: string | null): string => (tenantId === null ? FLEET_AUDIT_STREAM : `${AUDIT_CATEGORY}-${tenantId}`);

export interface AuditEntry {
  action: AuditAction;
  /** The tenant concerned; null for a fleet-wide action. */
  tenantId: string | null;
  target: string;
  /** The client's address, or `cli@<host>`. */
  source: string | null;
  /** A short note; never a secret. */
  details?: string | null;
}

export interface AuditContext {
  /** `operator:<sub>`, `tenant:<id>:<sub>` (as in every event's metadata). */
  actor: string;
  correlationId: string;
  now: Date;
  traceparent?: string | undefined;
}

/** Appends the entry to its stream; any revision (audit events are never decided against state). */
export function recordAudit(store: EventStore, entry: AuditEntry, context: AuditContext): Promise<AppendResult> {
  const data: AuditRecorded = {
    action: entry.action,
    tenantId: entry.tenantId,
    target: entry.target,
    source: entry.source,
    details: entry.details ?? null,
  };
  return store.append(auditStreamOf(entry.tenantId), [
    {
      type: 'AuditRecorded',
      data: data as unknown as Record<string, unknown>,
      metadata: {
        tenantId: entry.tenantId,
        actor: context.actor,
        correlationId: context.correlationId,
        causationId: null,
        occurredAt: context.now.toISOString(),
        ...(context.traceparent !== undefined && { traceparent: context.traceparent }),
      },
    },
  ]);
}

/** One entry as read back. */
export interface AuditRecord extends Required<AuditEntry> {
  actor: string;
  occurredAt: string;
  correlationId: string;
  position: number;
}

export const auditRecordOf = (event: RecordedEvent): AuditRecord => {
  const data = event.data as unknown as AuditRecorded;
  return {
    action: data.action as AuditAction,
    tenantId: data.tenantId,
    target: data.target,
    source: data.source,
    details: data.details,
    actor: event.metadata.actor,
    occurredAt: event.metadata.occurredAt,
    correlationId: event.metadata.correlationId,
    position: event.position,
  };
};
