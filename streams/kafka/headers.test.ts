import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../eventstore/index.ts';
import { isNovaCronError } from '../errors/index.ts';
import { fromHeaders, toHeaders } from './headers.ts';

const event: RecordedEvent = {
  streamId: 'vm-vm1',
  revision: 3,
  position: 1042,
  type: 'VmStarted',
  data: { vmId: 'vm1', nodeId: 'n1' },
  metadata: {
    eventId: '0193a1f2-0000-7000-8000-000000000001',
    tenantId: 't1',
    correlationId: 'c-1',
    causationId: 'cause-1',
    actor: 'tenant:t1:alice',
    occurredAt: '2025-01-01T00:00:00.000Z',
    schemaVersion: 2,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  },
  recordedAt: '2025-01-01T00:00:00.123Z',
};

/** What a consumer receives: Buffers. */
const asReceived = (headers: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === undefined ? undefined : Buffer.from(v)]));

describe('record headers', () => {
  it('carry everything of an event but its data, and read back to it', () => {
    const headers = toHeaders(event);
    expect(headers).toMatchObject({ eventId: event.metadata.eventId, type: 'VmStarted', position: '1042', revision: '3', streamId: 'vm-vm1', correlationId: 'c-1', tenantId: 't1', schemaVersion: '2', occurredAt: event.metadata.occurredAt });
    const { data: _data, ...rest } = event;
    expect(fromHeaders(asReceived(headers))).toEqual(rest);
  });

  it('leave out null tenantId and causationId and an absent traceparent, which read back as such', () => {
    const bare: RecordedEvent = { ...event, metadata: { ...event.metadata, tenantId: null, causationId: null, traceparent: undefined } };
    delete bare.metadata.traceparent;
    const headers = toHeaders(bare);
    expect(Object.keys(headers)).not.toContain('tenantId');
    expect(Object.keys(headers)).not.toContain('causationId');
    expect(Object.keys(headers)).not.toContain('traceparent');
    expect(fromHeaders(asReceived(headers)).metadata).toEqual(bare.metadata);
  });

  it('refuse a record without the headers the relay writes, naming the header', () => {
    const { position: _p, ...headers } = toHeaders(event);
    let caught: unknown;
    try {
      fromHeaders(asReceived(headers));
    } catch (error) {
      caught = error;
    }
    expect(isNovaCronError(caught, 'NC_VALIDATION')).toBe(true);
    expect((caught as { details: unknown }).details).toEqual({ header: 'position' });
  });
});
