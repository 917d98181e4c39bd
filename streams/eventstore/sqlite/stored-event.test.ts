import { describe, expect, it, vi } from 'vitest';
import { StoredEvent, type EventRow } from './stored-event.ts';

const metadata = { eventId: 'e1', tenantId: 'acme', correlationId: 'c', causationId: null, actor: 'operator:test', occurredAt: '2030-01-01T00:00:00.000Z', schemaVersion: 1 };
const row: EventRow = [7, 'cluster-c1', 2, 'ClusterJoined', '{"clusterId":"c1","regionId":"eu"}', JSON.stringify(metadata), Date.parse('2030-01-01T00:00:01.000Z')];

describe('StoredEvent', () => {
  it('decodes data and metadata on first access only, and never for a reader that skips the event', () => {
    const decode = vi.fn((_type: string, data: string) => JSON.parse(data) as Record<string, unknown>);
    const skipped = new StoredEvent(row, decode);
    expect([skipped.position, skipped.streamId, skipped.revision, skipped.type]).toEqual([7, 'cluster-c1', 2, 'ClusterJoined']);
    expect(decode).not.toHaveBeenCalled();

    const read = new StoredEvent(row, decode);
    expect(read.data).toEqual({ clusterId: 'c1', regionId: 'eu' });
    expect(read.data).toBe(read.data);
    expect(decode).toHaveBeenCalledTimes(1);
    expect(decode).toHaveBeenCalledWith('ClusterJoined', row[4], metadata);
    expect(read.metadata).toBe(read.metadata);
    expect(read.recordedAt).toBe('2030-01-01T00:00:01.000Z');
  });

  it('serializes as the plain recorded event, and takes assignments like one', () => {
    const event = new StoredEvent(row, (_type, data) => JSON.parse(data) as Record<string, unknown>);
    const plain = {
      streamId: 'cluster-c1',
      revision: 2,
      position: 7,
      type: 'ClusterJoined',
      data: { clusterId: 'c1', regionId: 'eu' },
      metadata,
      recordedAt: '2030-01-01T00:00:01.000Z',
    };
    expect(JSON.parse(JSON.stringify(event))).toEqual(plain);
    event.data = { clusterId: 'c2', regionId: 'us' };
    expect(event.data).toEqual({ clusterId: 'c2', regionId: 'us' });
  });
});
