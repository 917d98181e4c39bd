import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createJsonLog, kafkaLogCreator, kafkaLogLevel, type Log } from './client.ts';

function recording(): { log: Log; lines: Array<{ level: string; fields: object; message: string }> } {
  const lines: Array<{ level: string; fields: object; message: string }> = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, fields, message });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

// The entry kafkajs's Connection logs (at error) for a response carrying a protocol error.
const coordinatorNotAvailable = {
  message: 'Response GroupCoordinator(key: 10, version: 2)',
  error: 'The group coordinator is not available',
  correlationId: 1,
  size: 30,
  timestamp: '2026-12-07T06:00:00.000Z',
  logger: 'kafkajs',
};

describe('kafkajs logs through the logger', () => {
  it('the harmless "group coordinator is not available" every start meets is info, not error', () => {
    expect(kafkaLogLevel(logLevel.ERROR, coordinatorNotAvailable)).toBe('info');
    const { log, lines } = recording();
    kafkaLogCreator(log)(logLevel.INFO)({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: coordinatorNotAvailable });
    expect(lines).toEqual([
      { level: 'info', message: 'Response GroupCoordinator(key: 10, version: 2)', fields: { component: 'kafkajs', namespace: 'Connection', error: 'The group coordinator is not available', correlationId: 1, size: 30 } },
    ]);
  });

  it('other errors stay errors, warnings warnings; kafkajs info chatter and known noise are debug', () => {
    expect(kafkaLogLevel(logLevel.ERROR, { message: 'Response Produce(key: 0, version: 7)', error: 'The server experienced an unexpected error when processing the request' })).toBe('error');
    expect(kafkaLogLevel(logLevel.ERROR, { message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' })).toBe('error');
    expect(kafkaLogLevel(logLevel.WARN, { message: 'Request timed out' })).toBe('warn');
    expect(kafkaLogLevel(logLevel.INFO, { message: 'Consumer has joined the group' })).toBe('debug');
    expect(kafkaLogLevel(logLevel.WARN, { message: 'Limiting retries for the idempotent producer to 6' })).toBe('debug');
    expect(kafkaLogLevel(logLevel.ERROR, { message: 'Response AddPartitionsToTxn(key: 24, version: 1)', error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing' })).toBe('debug');
  });

  it('a log without debug drops what goes to debug', () => {
    const { log, lines } = recording();
    delete log.debug;
    kafkaLogCreator(log)(logLevel.INFO)({ namespace: 'Consumer', level: logLevel.INFO, label: 'INFO', log: { message: 'Starting', timestamp: '', logger: 'kafkajs' } });
    expect(lines).toEqual([]);
  });

  it('the roles without the API log in pino\'s format, as the API does (numeric levels)', async () => {
    let out = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out += chunk.toString();
        done();
      },
    });
    const log = createJsonLog('info', destination);
    log.info({ component: 'relay', topicPrefix: 'novacron' }, 'relay resumed');
    log.error({ err: new Error('boom') }, 'relay stopped');
    log.debug?.({}, 'not at info');
    await new Promise((resolve) => setImmediate(resolve));
    const lines = out.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, component: 'relay', topicPrefix: 'novacron', msg: 'relay resumed' });
    expect(lines[0]).toHaveProperty('time');
    expect(lines[0]).toHaveProperty('pid');
    expect(lines[1]).toMatchObject({ level: 50, msg: 'relay stopped', err: { type: 'Error', message: 'boom' } });
    expect(() => createJsonLog('loud')).toThrow(/level must be one of/);
  });
});
