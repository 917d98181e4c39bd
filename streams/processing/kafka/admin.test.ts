import type { Admin, Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { lazyAdmin } from './admin.ts';

/** A Kafka whose admin clients fail to connect `failures` times first, counting connects and disconnects. */
function fakeKafka(failures = 0) {
  const counts = { created: 0, connected: 0, disconnected: 0 };
  const kafka = {
    admin: () => {
      counts.created++;
      return {
        connect: async () => {
          if (failures-- > 0) throw new Error('broker down');
          counts.connected++;
        },
        disconnect: async () => {
          counts.disconnected++;
        },
      } as unknown as Admin;
    },
  } as unknown as Kafka;
  return { kafka, counts };
}

describe('lazyAdmin', () => {
  it('connects once, on first use, and disconnects on close', async () => {
    const { kafka, counts } = fakeKafka();
    const admin = lazyAdmin(kafka);
    expect(counts.created).toBe(0);
    const [a, b] = await Promise.all([admin.get(), admin.get()]);
    expect(a).toBe(b);
    expect(counts).toEqual({ created: 1, connected: 1, disconnected: 0 });
    await admin.close();
    expect(counts.disconnected).toBe(1);
    await admin.close();
    expect(counts.disconnected).toBe(1);
  });

  it('connects again on the next use after a failed connect', async () => {
    const { kafka, counts } = fakeKafka(1);
    const admin = lazyAdmin(kafka);
    await expect(admin.get()).rejects.toThrow('broker down');
    await admin.get();
    expect(counts).toMatchObject({ created: 2, connected: 1 });
  });

  it('closes without connecting when it was never used', async () => {
    const { kafka, counts } = fakeKafka();
    await lazyAdmin(kafka).close();
    expect(counts).toEqual({ created: 0, connected: 0, disconnected: 0 });
  });
});
