import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { EventStore, RecordedEvent } from '../../streams/eventstore/index.ts';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { ProjectionHost } from '../../streams/processing/host.ts';

/** Header naming the write a session read must see: a position, or `<streamId>@<revision>`. */
export const AFTER_HEADER = 'x-novacron-after';

export const ConsistencyQuery = Type.Optional(
  Type.Union([Type.Literal('eventual'), Type.Literal('session'), Type.Literal('strong')], {
    description:
      'eventual (default): read the projection as it is. session: wait (bounded by NOVACRON_SESSION_WAIT_MS) until the projection has applied the write named in X-NovaCron-After. strong: fold the aggregate from the event store (single resources only).',
  }),
);
export type Consistency = 'eventual' | 'session' | 'strong';

const AFTER = /^(?:(\d{1,15})|([a-z][a-z0-9]{0,31}-[A-Za-z0-9][A-Za-z0-9._:@-]*)@(\d{1,15}))$/;

/** The write a session read must see: its position and, when known, its stream and revision. */
export interface AfterWrite {
  position: number;
  streamId?: string;
  revision?: number;
}

const notInStore = (what: string) =>
  new NovaCronError('NC_VALIDATION', `X-NovaCron-After names ${what}, which is not in the event store`, {
    details: { location: 'headers', field: AFTER_HEADER },
  });

/**
 * Which events a request may name in X-NovaCron-After: a tenant its own and the
 * fleet's (regions, clusters, nodes belong to no tenant and change its routes),
 * never another tenant's, which answer exactly as one that never existed (same
 * read, same error), so the header tells nothing of other tenants. (A bare
 * position on the embedded log is a point in the one global order, which every
 * command answer shows anyway.)
 */
function visibleTo(request: FastifyRequest): (event: RecordedEvent | undefined) => event is RecordedEvent {
  const tenantId = request.principal?.role === 'operator' ? null : (request.principal?.tenantId ?? null);
  return (event): event is RecordedEvent =>
    event !== undefined && (tenantId === null || event.metadata.tenantId === null || event.metadata.tenantId === undefined || event.metadata.tenantId === tenantId);
}

/** The write named by the X-NovaCron-After header (null without one); `<streamId>@<revision>` is resolved to its position. */
export async function afterWrite(request: FastifyRequest, store: EventStore): Promise<AfterWrite | null> {
  const raw = request.headers[AFTER_HEADER];
  if (raw === undefined) return null;
  const value = Array.isArray(raw) ? raw[0] : raw;
  const match = typeof value === 'string' ? AFTER.exec(value.trim()) : null;
  if (!match) {
    throw new NovaCronError('NC_VALIDATION', 'X-NovaCron-After must be a position or <streamId>@<revision>', {
      details: { location: 'headers', field: AFTER_HEADER },
    });
  }
  if (match[1] !== undefined) return { position: Number(match[1]) };
  const visible = visibleTo(request);
  const streamId = match[2] as string;
  const revision = Number(match[3]);
  const [event] = await store.readStream(streamId, { fromRevision: revision, maxCount: 1 });
  // A revision not (yet) in the store: nothing this read could wait for would make it visible.
  if (!visible(event) || event.revision !== revision) throw notInStore(`${streamId}@${revision}`);
  return { position: event.position, streamId, revision };
}

/** The position a session read must wait for, from the X-NovaCron-After header. */
export async function afterPosition(request: FastifyRequest, store: EventStore): Promise<number | null> {
  return (await afterWrite(request, store))?.position ?? null;
}

/**
 * Waits until `projection` has applied `after`. On the embedded log (one
 * global order) that is its position; from Kafka (per-stream order) it is
 * the stream's revision, a bare position being resolved to its event first.
 */
async function waitForWrite(request: FastifyRequest, host: ProjectionHost, projection: string, after: AfterWrite, store: EventStore, timeoutMs: number): Promise<AfterWrite & { reached: boolean }> {
  if (host.ordering(projection) === 'global') return { ...after, reached: await host.waitFor(projection, after.position, timeoutMs) };
  let { streamId, revision } = after;
  if (streamId === undefined || revision === undefined) {
    const [event] = after.position > 0 ? await store.readAll({ fromPosition: after.position, maxCount: 1 }) : [];
    if (!visibleTo(request)(event) || event.position !== after.position) throw notInStore(`position ${after.position}`);
    ({ streamId, revision } = event);
  }
  return { position: after.position, streamId, revision, reached: await host.waitForStream(projection, streamId, revision, timeoutMs) };
}

interface SettleOptions {
  consistency: Consistency | undefined;
  host: ProjectionHost;
  projection: string;
  store: EventStore;
  sessionWaitMs: number;
  strongAllowed?: boolean;
}

/**
 * Resolves the consistency of a query read from `projection`: with a session
 * (explicit, or implied by the X-NovaCron-After header), waits until the
 * projection has applied the named write or answers 503 NC_PROJECTION_LAGGING.
 * Returns the consistency actually used.
 */
export async function settleConsistency(request: FastifyRequest, options: SettleOptions): Promise<Consistency> {
  return (await settleRead(request, options)).mode;
}

/** settleConsistency, also returning the write a session read waited for (null for the other modes). */
export async function settleRead(
  request: FastifyRequest,
  { consistency, host, projection, store, sessionWaitMs, strongAllowed = false }: SettleOptions,
): Promise<{ mode: Consistency; after: AfterWrite | null }> {
  const after = await afterWrite(request, store);
  const mode = consistency ?? (after === null ? 'eventual' : 'session');
  if (mode === 'strong' && !strongAllowed) {
    throw new NovaCronError('NC_VALIDATION', 'consistency=strong is only for single resources (it folds one aggregate from the event store)', {
      details: { location: 'querystring', field: 'consistency' },
    });
  }
  if (mode === 'session') {
    if (after === null) {
      throw new NovaCronError('NC_VALIDATION', 'consistency=session needs the X-NovaCron-After header (a command answer\'s position, or <streamId>@<revision>)', {
        details: { location: 'headers', field: AFTER_HEADER },
      });
    }
    const { reached, ...write } = await waitForWrite(request, host, projection, after, store, sessionWaitMs);
    if (!reached) {
      const named = write.streamId === undefined ? `position ${write.position}` : `${write.streamId}@${write.revision} (position ${write.position})`;
      throw new NovaCronError('NC_PROJECTION_LAGGING', `the ${projection} projection has not applied ${named} yet`, {
        retriable: true,
        details: { projection, ...write, checkpoint: host.checkpoint(projection) },
      });
    }
    return { mode, after: write };
  }
  return { mode, after: null };
}
