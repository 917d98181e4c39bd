/**
 * Child process for the crash test: appends forever with 16 concurrent
 * appenders and prints each acknowledged event id on its own line, until it
 * is killed. Usage: node --import tsx crash-writer.fixture.ts <db path>
 */
import { randomBytes } from 'node:crypto';
import { createEventCodec, defaultCatalog } from '../../catalog/index.ts';
import { createKeyStore, createPersonalDataCipher } from '../../crypto/index.ts';
import { newEventId } from '../new-event.ts';
import { createSqliteEventStore } from './store.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: crash-writer.fixture.ts <db path>');
const codec = createEventCodec({
  catalog: defaultCatalog(),
  cipher: createPersonalDataCipher(createKeyStore({ path: ':memory:', masterKey: randomBytes(32) })),
});
const store = createSqliteEventStore({ path, codec });

async function appender(worker: number): Promise<never> {
  for (let i = 0; ; i++) {
    const eventId = newEventId();
    await store.append(`cluster-w${worker}`, [
      { type: 'ClusterHealthReported', data: { clusterId: `w${worker}`, regionId: 'r', healthy: i % 2 === 0, detail: null }, metadata: { eventId } },
    ]);
    process.stdout.write(`${eventId}\n`);
  }
}

await Promise.all(Array.from({ length: 16 }, (_, w) => appender(w)));
