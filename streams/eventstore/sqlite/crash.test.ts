import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import { createSqliteEventStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'novacron-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keeps every acknowledged event when the writing process is killed with SIGKILL mid-append', async () => {
  const path = join(dir, 'events.db');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url)), path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));

  const acknowledged: string[] = [];
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      acknowledged.push(line);
      if (acknowledged.length === 2000) {
        child.kill('SIGKILL'); // appends are in flight: 16 appenders never wait for each other
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
  });
  expect(await exited).toBe('SIGKILL');
  lines.close();

  const store = createSqliteEventStore({
    path,
    codec: createEventCodec({
      catalog: defaultCatalog(),
      cipher: createPersonalDataCipher(createKeyStore({ path: ':memory:', masterKey: randomBytes(32) })),
    }),
  });
  try {
    const stored = await store.readAll({ maxCount: 1_000_000 });
    const storedIds = new Set(stored.map((e) => e.metadata.eventId));
    const lost = acknowledged.filter((id) => !storedIds.has(id));
    expect(lost).toEqual([]);
    expect(stored.length).toBeGreaterThanOrEqual(acknowledged.length);
    // Positions have no gaps, and each stream's revisions run from 0 without gaps.
    expect(stored.map((e) => e.position)).toEqual(stored.map((_, i) => i + 1));
    const byStream = new Map<string, number[]>();
    for (const e of stored) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.revision]);
    for (const revisions of byStream.values()) expect(revisions).toEqual(revisions.map((_, i) => i));
    // The store keeps working on the recovered file.
    await store.append('cluster-after', [{ type: 'ClusterJoined', data: { clusterId: 'after', regionId: 'r' } }]);
  } finally {
    await store.close();
  }
});
