import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventRow } from './rows.ts';
import { SCENARIO, SCENARIO_CAPACITY, SCENARIO_INTERVALS } from './scenario.fixture.ts';
import { applyInMemory, ev, generateHistory, memoryTables, recordedOf, sortedRows, type MemoryTables } from './testing.ts';
import type { RecordedEvent } from '../../streams/eventstore/index.ts';

const rowsOf = (m: MemoryTables, table: string) => sortedRows(m, table).map(([, row]) => row);
const byKey = (keys: string[]) => (a: Record<string, unknown>, b: Record<string, unknown>) => {
  for (const k of keys) if (a[k] !== b[k]) return String(a[k]) < String(b[k]) ? -1 : 1;
  return 0;
};

async function applyAll(events: readonly RecordedEvent[], cuts: readonly number[] = [], crashes: readonly number[] = []): Promise<MemoryTables> {
  const m = memoryTables();
  const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < events.length), events.length])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const batch = events.slice(bounds[i], bounds[i + 1]);
    // A crash between the rows and the checkpoint: the rows stay, the batch is applied again.
    if (crashes.includes(i)) await applyInMemory(m, batch, { crash: true });
    await applyInMemory(m, batch);
  }
  return m;
}

const tablesOf = (m: MemoryTables) => ({
  events: rowsOf(m, 'events'),
  intervals: rowsOf(m, 'vm_state_intervals'),
  capacity: rowsOf(m, 'capacity_hourly'),
});

describe('analytics rows', () => {
  it('gives the fact rows, the VM state intervals and the hourly capacity of a small history', async () => {
    const m = await applyAll(recordedOf(SCENARIO));
    expect(rowsOf(m, 'events')).toHaveLength(SCENARIO.length);
    expect(rowsOf(m, 'vm_state_intervals').sort(byKey(['from_revision']))).toEqual(SCENARIO_INTERVALS);
    expect(rowsOf(m, 'capacity_hourly').sort(byKey(['region_id', 'cluster_id', 'hour']))).toEqual(SCENARIO_CAPACITY);
  });

  it('maps an event to its fact row, data as given (personal fields as stored)', () => {
    const [event] = recordedOf([ev.tenantCreated('acme', '2026-01-01T10:01:30.250Z', 'ncpii:v1:sealed')], { firstPosition: 41, recordedAt: () => '2026-01-01T10:01:31.900Z' });
    expect(eventRow(event as RecordedEvent)).toEqual({
      position: 41,
      stream_id: 'tenant-acme',
      revision: 0,
      category: 'tenant',
      type: 'TenantCreated',
      event_id: 'e-41',
      tenant_id: 'acme',
      correlation_id: 'c-tenant-acme',
      causation_id: '',
      actor: 'operator:test',
      occurred_at: Date.parse('2026-01-01T10:01:30Z') / 1000,
      recorded_at: Date.parse('2026-01-01T10:01:31Z') / 1000,
      schema_version: 1,
      data: JSON.stringify(event?.data),
    });
    expect(JSON.parse(eventRow(event as RecordedEvent).data).contactEmail).toBe('ncpii:v1:sealed');
  });

  it('cuts intervals on place and size as well as state, and not on snapshots or restarts', async () => {
    const at = (m: number) => new Date(Date.parse('2026-02-01T00:00:00Z') + m * 60_000).toISOString();
    const mig = { migrationId: 'm1', sourceNodeId: 'a1', targetNodeId: 'b1', targetRegionId: 'us-east' };
    const m = await applyAll(
      recordedOf([
        ev.nodeRegistered('a1', 'eu-west', 'ca', 8, 8192, at(0)),
        ev.nodeRegistered('b1', 'us-east', 'cb', 8, 8192, at(0)),
        ev.vmCreated('v', { tenantId: 't', regionId: 'eu-west', clusterId: 'ca', nodeId: 'a1', vcpus: 2, memoryMiB: 1024 }, at(1)),
        ev.vmStarted('v', 't', 'a1', at(2)),
        ev.vmSnapshot('v', 't', at(3)),
        ev.vmRestarted('v', 't', 'a1', at(4)),
        ev.vmMigrationStarted('v', 't', mig, at(5)),
        ev.vmMigrationCompleted('v', 't', mig, at(6)),
        ev.vmPaused('v', 't', at(7)),
        ev.vmFailed('v', 't', 'b1', at(8)),
        ev.vmStarted('ghost', 't', 'a1', at(9)), // never created in this log: ignored
      ]),
    );
    const intervals = rowsOf(m, 'vm_state_intervals').sort(byKey(['from_revision']));
    expect(intervals.map((r) => [r['state'], r['region_id'], r['cluster_id'], r['node_id'], r['ended_by']])).toEqual([
      ['stopped', 'eu-west', 'ca', 'a1', 'VmStarted'],
      ['running', 'eu-west', 'ca', 'a1', 'VmMigrationStarted'],
      ['migrating', 'eu-west', 'ca', 'a1', 'VmMigrationCompleted'],
      ['running', 'us-east', 'cb', 'b1', 'VmPaused'],
      ['paused', 'us-east', 'cb', 'b1', 'VmFailed'],
      ['failed', 'us-east', 'cb', 'b1', ''],
    ]);
    expect(intervals.at(-1)?.['ended_at']).toBeNull();
  });

  it('counts an event at its occurredAt, or its recordedAt when earlier; stream time and intervals never go back', async () => {
    const events = recordedOf(
      [
        ev.nodeRegistered('n', 'r', null, 4, 4096, '2026-01-01T10:00:00Z'),
        ev.vmCreated('v', { tenantId: 't', regionId: 'r', clusterId: null, nodeId: 'n', vcpus: 1, memoryMiB: 512 }, '2026-01-01T10:10:00Z'),
        ev.vmStarted('v', 't', 'n', '2099-01-01T00:00:00Z'), // a writer's clock far ahead: recorded at 11:20
        ev.vmStopped('v', 't', 'n', '2026-01-01T11:00:00Z'), // before the interval it closes started
        ev.clusterHealth('c', 'r', '2026-01-01T09:00:00Z'), // an hour before stream time
      ],
      { recordedAt: (e) => (e.type === 'VmStarted' ? '2026-01-01T11:20:00Z' : e.occurredAt) },
    );
    const m = await applyAll(events);
    const [stopped, running] = rowsOf(m, 'vm_state_intervals').sort(byKey(['from_revision']));
    const s = (iso: string) => Date.parse(iso) / 1000;
    expect(stopped).toMatchObject({ started_at: s('2026-01-01T10:10:00Z'), ended_at: s('2026-01-01T11:20:00Z') });
    expect(running).toMatchObject({ started_at: s('2026-01-01T11:20:00Z'), ended_at: s('2026-01-01T11:20:00Z') });
    // Hours 10 and 11 (the far-future instant does not move stream time), nothing for the late event's 09:00.
    expect(rowsOf(m, 'capacity_hourly').map((r) => r['hour'])).toEqual([s('2026-01-01T10:00:00Z'), s('2026-01-01T11:00:00Z')]);
  });

  it('gives the same rows whatever the batches, and when batches are applied again after a crash before their checkpoint', async () => {
    const history = recordedOf(generateHistory({ seed: 7, steps: 80 }));
    const whole = tablesOf(await applyAll(history));
    expect(whole.intervals.length).toBeGreaterThan(20);
    expect(whole.capacity.length).toBeGreaterThan(20);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: history.length - 1 }), { maxLength: 12 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { maxLength: 4 }),
        async (cuts, crashes) => {
          expect(tablesOf(await applyAll(history, cuts, crashes))).toEqual(whole);
        },
      ),
      { numRuns: 60 },
    );
  });
});
