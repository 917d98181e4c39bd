import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('NOVACRON_ESDB_URL', () => {
  it('is unset by default: the event store is the embedded SQLite file', () => {
    expect(loadConfig({}).esdbUrl).toBeUndefined();
    expect(loadConfig({ NOVACRON_ESDB_URL: '' }).esdbUrl).toBeUndefined();
  });

  it('takes EventStoreDB and KurrentDB connection strings', () => {
    for (const url of [
      'esdb://localhost:2113?tls=false',
      'esdb://admin:changeit@kurrentdb:2113?tls=true&tlsVerifyCert=false',
      'kurrentdb+discover://node1:2113,node2:2113,node3:2113',
      'kurrentdb://127.0.0.1:2113/?tls=false',
    ]) {
      expect(loadConfig({ NOVACRON_ESDB_URL: url }).esdbUrl).toBe(url);
    }
  });

  it('refuses anything else, naming the variable but not echoing the value (it may hold a password)', () => {
    for (const url of ['http://localhost:2113', 'localhost:2113', 'esdb://', 'esdb://user:s3cret@host with space:2113']) {
      let error: unknown;
      try {
        loadConfig({ NOVACRON_ESDB_URL: url });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'NC_CONFIG_INVALID', details: { variable: 'NOVACRON_ESDB_URL' } });
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});
