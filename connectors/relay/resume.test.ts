import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReadAllOptions, RecordedEvent } from '../../streams/eventstore/index.ts';
import type { PartitionTail } from '../../streams/kafka/index.ts';
import { planResume, resumeAfter } from './resume.ts';

const tail = (topic: string, partition: number, position: number): PartitionTail => ({
  topic,
  partition,
  low: 0,
  high: position === 0 ? 0 : 1,
  last: position === 0 ? null : { offset: 0, position, eventId: `e${position}` },
});

/** readAll of a log holding events at `positions` (ascending, possibly with gaps). */
const logOf = (positions: readonly number[]) => ({
  async readAll({ direction = 'forwards', fromPosition, maxCount = 4096 }: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const from = typeof fromPosition === 'number' ? fromPosition : direction === 'forwards' ? 0 : Infinity;
    const selected = direction === 'forwards' ? positions.filter((p) => p >= from) : positions.filter((p) => p <= from).reverse();
    return selected.slice(0, maxCount).map((position) => ({ position }) as RecordedEvent);
  },
});

describe('planResume', () => {
  it('finds nothing in empty topics', () => {
    const plan = planResume([tail('t', 0, 0), tail('t', 1, 0)]);
    expect(plan).toMatchObject({ highest: 0, highestEventId: null });
    expect(plan.isPublished(1, 't', 0)).toBe(false);
  });

  it('skips per partition, not globally', () => {
    // The last batch held 6..10: partition t/0 got its part (up to 10), t/1 did not (still at 5).
    const plan = planResume([tail('t', 0, 10), tail('t', 1, 5), tail('u', 0, 3)]);
    expect(plan).toMatchObject({ highest: 10, highestEventId: 'e10' });
    expect(plan.isPublished(9, 't', 0)).toBe(true);
    expect(plan.isPublished(7, 't', 1)).toBe(false); // "resume after 10" would have skipped it
    expect(plan.isPublished(5, 't', 1)).toBe(true);
    expect(plan.isPublished(4, 'u', 0)).toBe(false); // "resume after the lowest (3)" would send 4..10 of t again
    expect(plan.isPublished(11, 't', 0)).toBe(false);
  });
});

describe('resumeAfter', () => {
  it('re-reads the window of events before the highest one, counted in events (positions may have gaps)', async () => {
    const log = logOf([10, 25, 40, 41, 90, 120]);
    expect(await resumeAfter(log, 0, 2)).toBe(0);
    expect(await resumeAfter(log, 90, 2)).toBe(40); // then 41 and 90 are read again
    expect(await resumeAfter(log, 90, 4)).toBe(10);
    expect(await resumeAfter(log, 90, 5)).toBe(0); // fewer events than the window: from the start
    await expect(resumeAfter(log, 90, 0)).rejects.toThrow(RangeError);
  });
});

/**
 * A model of the relay and Kafka: events go to partitions by stream; the relay
 * sends batches of consecutive events in log order, one at a time; a crash
 * leaves the batch in flight written to an arbitrary subset of its partitions
 * (each a prefix of its part of the batch). After any number of crashes and a
 * final complete run, every partition holds exactly its events, once, in order.
 */
describe('the restart scheme (model)', () => {
  it('resumes exactly: nothing skipped, nothing duplicated, order kept, across crashes at any point', async () => {
    const scenario = fc.record({
      streams: fc.array(fc.nat(9), { minLength: 10, maxLength: 200, size: 'medium' }), // the stream of each event
      gaps: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 }), // position steps (ESDB-like gaps)
      partitions: fc.integer({ min: 1, max: 4 }),
      window: fc.integer({ min: 1, max: 20 }),
      runs: fc.array(
        fc.record({
          batchSizes: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 10 }),
          crashAfter: fc.nat(8),
          written: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ streams, gaps, partitions, window, runs }) => {
        let position = 0;
        const events = streams.map((stream, i) => {
          position += gaps[i % gaps.length] as number;
          return { position, topic: stream % 2 === 0 ? 'even' : 'odd', partition: stream % partitions };
        });
        const log = logOf(events.map((e) => e.position));
        const key = (t: string, p: number) => `${t}/${p}`;
        const kafka = new Map<string, number[]>(); // "topic/partition" → positions in offset order
        for (const t of ['even', 'odd']) for (let p = 0; p < partitions; p++) kafka.set(key(t, p), []);

        const run = async (batchSizes: number[], crashAfter: number | null, written: number[]) => {
          const tails = [...kafka].map(([k, list]) => {
            const [t, p] = k.split('/') as [string, string];
            return tail(t, Number(p), list[list.length - 1] ?? 0);
          });
          const plan = planResume(tails);
          const after = await resumeAfter(log, plan.highest, window);
          let next = events.findIndex((e) => e.position > after);
          for (let b = 0; next !== -1 && next < events.length; b++) {
            const size = Math.min(batchSizes[b % batchSizes.length] as number, window); // the relay caps a batch at the window
            const batch = events.slice(next, next + size).filter((e) => !plan.isPublished(e.position, e.topic, e.partition));
            next += size;
            const crashing = crashAfter !== null && b === crashAfter;
            const parts = new Map<string, number[]>();
            for (const e of batch) parts.set(key(e.topic, e.partition), [...(parts.get(key(e.topic, e.partition)) ?? []), e.position]);
            let i = 0;
            for (const [k, part] of parts) {
              const keep = crashing ? Math.floor((written[i++ % written.length] as number) * (part.length + 1)) : part.length;
              kafka.get(k)?.push(...part.slice(0, Math.min(keep, part.length)));
            }
            if (crashing) return;
          }
        };
        for (const r of runs) await run(r.batchSizes, r.crashAfter, r.written);
        await run([window], null, []);

        for (const [k, list] of kafka) {
          const [t, p] = k.split('/') as [string, string];
          expect(list).toEqual(events.filter((e) => e.topic === t && e.partition === Number(p)).map((e) => e.position));
        }
      }),
      { numRuns: 500 },
    );
  });
});
