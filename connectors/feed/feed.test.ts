import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../streams/catalog/index.ts';
import { samples } from '../../streams/catalog/fixtures.ts';
import { isNovaCronError } from '../../streams/errors/index.ts';
import { commentFrame, DEFAULT_HEARTBEAT_MS, eventFrame, loadFeedSettings, redactPersonal } from './index.ts';

describe('SSE frames', () => {
  it('an event is id, event and one data line of JSON, ended by a blank line', () => {
    const metadata = { eventId: 'e1', tenantId: 't1', correlationId: 'c', causationId: null, actor: 'system:test', occurredAt: '2025-01-01T00:00:00.000Z', schemaVersion: 1 };
    const frame = eventFrame({ streamId: 'tenant-t1', revision: 0, position: 7, type: 'TenantSuspended', data: { tenantId: 't1', reason: 'two\nlines' }, metadata });
    const [id, event, data, ...rest] = frame.split('\n');
    expect([id, event]).toEqual(['id: 7', 'event: TenantSuspended']);
    expect(JSON.parse(data?.slice('data: '.length) ?? '')).toMatchObject({ position: 7, data: { reason: 'two\nlines' } });
    expect(rest).toEqual(['', '']);
    expect(commentFrame('a\nb')).toBe(': a b\n\n');
  });
});

describe('redactPersonal', () => {
  const catalog = defaultCatalog();
  it("replaces the catalog's personal fields, leaving empty values and everything else", () => {
    expect(redactPersonal(catalog, 'VmCreated', samples.VmCreated)).toEqual({ ...samples.VmCreated, sshPublicKeys: ['[redacted]', '[redacted]'], userData: '[redacted]' });
    expect(redactPersonal(catalog, 'TenantCreated', { ...samples.TenantCreated, contactEmail: '' })).toEqual({ ...samples.TenantCreated, contactEmail: '' });
    expect(redactPersonal(catalog, 'NodeRegistered', samples.NodeRegistered)).toBe(samples.NodeRegistered);
  });
});

describe('loadFeedSettings', () => {
  it('defaults the heartbeat to 15 s and checks NOVACRON_FEED_HEARTBEAT_MS', () => {
    expect(loadFeedSettings({})).toEqual({ heartbeatMs: DEFAULT_HEARTBEAT_MS, maxPerTenant: 5 });
    expect(loadFeedSettings({ NOVACRON_FEED_HEARTBEAT_MS: '2500' })).toEqual({ heartbeatMs: 2500, maxPerTenant: 5 });
    for (const bad of ['0', '99', '1.5', 'soon', '3600001']) {
      let error: unknown;
      try {
        loadFeedSettings({ NOVACRON_FEED_HEARTBEAT_MS: bad });
      } catch (caught) {
        error = caught;
      }
      expect(isNovaCronError(error, 'NC_CONFIG_INVALID') && error.details).toEqual({ variable: 'NOVACRON_FEED_HEARTBEAT_MS' });
    }
  });

  it('reads NOVACRON_FEED_MAX_PER_TENANT, from 1 to 10000', () => {
    expect(loadFeedSettings({ NOVACRON_FEED_MAX_PER_TENANT: '20' }).maxPerTenant).toBe(20);
    for (const bad of ['0', '10001', 'many']) expect(() => loadFeedSettings({ NOVACRON_FEED_MAX_PER_TENANT: bad })).toThrow(/NOVACRON_FEED_MAX_PER_TENANT/);
  });
});
