import type { Admin } from 'kafkajs';
import type { PartitionOffset } from './state.ts';

export interface Watermarks {
  topic: string;
  partition: number;
  /** Offset of the first message still in the log. */
  low: number;
  /** Offset the next message will get. */
  high: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Stored offset: the last message applied (-1: none). */
  offset: number;
  /** Offset the next message will get. */
  highWatermark: number;
  /** Messages not applied yet: high watermark − (stored offset + 1), from the log start when nothing is stored. */
  lag: number;
}

/** Every partition's watermarks, from the brokers. */
export async function watermarks(admin: Admin, topics: readonly string[]): Promise<Watermarks[]> {
  const rows: Watermarks[] = [];
  for (const topic of topics) {
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) rows.push({ topic, partition, low: Number(low), high: Number(high) });
  }
  return rows.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

/** Lag per partition from the watermarks and the offsets stored in the projection's file. Pure. */
export function lagOf(marks: readonly Watermarks[], stored: readonly PartitionOffset[]): PartitionLag[] {
  const byKey = new Map(stored.map((s) => [`${s.topic}\u0000${s.partition}`, s.offset]));
  return marks.map(({ topic, partition, low, high }) => {
    const offset = byKey.get(`${topic}\u0000${partition}`) ?? -1;
    return { topic, partition, offset, highWatermark: high, lag: Math.max(0, high - Math.max(offset + 1, low)) };
  });
}

/** A processor's lag per partition of its topics. */
export async function partitionLag(admin: Admin, topics: readonly string[], stored: readonly PartitionOffset[]): Promise<PartitionLag[]> {
  return lagOf(await watermarks(admin, topics), stored);
}

/** Totals as the embedded runner reports them: checkpoint and head as summed offsets, lag = head − checkpoint. */
export function totals(partitions: readonly PartitionLag[]): { checkpoint: number; head: number; lag: number } {
  let head = 0;
  let lag = 0;
  for (const p of partitions) {
    head += p.highWatermark;
    lag += p.lag;
  }
  return { checkpoint: head - lag, head, lag };
}
