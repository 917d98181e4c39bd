import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaSecurityOptions } from '../streams/kafka/client.ts';
import { loadConfig } from './config.ts';

const kafka = { NOVACRON_KAFKA_BROKERS: 'kafka:9093', NOVACRON_SCHEMA_REGISTRY_URL: 'https://registry:8081' };
let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('Kafka TLS and SASL (NOVACRON_KAFKA_SSL, NOVACRON_KAFKA_CA, NOVACRON_KAFKA_SASL_MECHANISM and its user and password)', () => {
  it('hand kafkajs ssl (with the CA file) and sasl', () => {
    dir = mkdtempSync(join(tmpdir(), 'novacron-kafka-tls-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = loadConfig({ ...kafka, NOVACRON_KAFKA_CA: ca, NOVACRON_KAFKA_SASL_MECHANISM: 'scram-sha-512', NOVACRON_KAFKA_SASL_USERNAME: 'relay', NOVACRON_KAFKA_SASL_PASSWORD: 'pw-secret' });
    expect(config.kafka.security).toEqual({ ssl: true, caPath: ca, sasl: { mechanism: 'scram-sha-512', username: 'relay', password: 'pw-secret' } });
    expect(kafkaSecurityOptions(config.kafka.security)).toEqual({
      ssl: { ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] },
      sasl: { mechanism: 'scram-sha-512', username: 'relay', password: 'pw-secret' },
    });
    expect(kafkaSecurityOptions(loadConfig({ ...kafka, NOVACRON_KAFKA_SSL: 'on' }).kafka.security)).toEqual({ ssl: true });
    expect(kafkaSecurityOptions(loadConfig(kafka).kafka.security)).toEqual({});
  });

  it('refuse incomplete SASL settings without echoing the password', () => {
    let message = '';
    try {
      loadConfig({ ...kafka, NOVACRON_KAFKA_SASL_MECHANISM: 'plain', NOVACRON_KAFKA_SASL_PASSWORD: 'pw-secret' });
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('NOVACRON_KAFKA_SASL_USERNAME');
    expect(message).not.toContain('pw-secret');
    expect(() => loadConfig({ ...kafka, NOVACRON_KAFKA_SASL_USERNAME: 'u' })).toThrow(/NOVACRON_KAFKA_SASL_MECHANISM/);
    expect(() => loadConfig({ ...kafka, NOVACRON_KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(/NOVACRON_KAFKA_SASL_MECHANISM/);
    expect(() => loadConfig({ ...kafka, NOVACRON_KAFKA_SSL: 'off', NOVACRON_KAFKA_CA: '/tmp/ca.pem' })).toThrow(/NOVACRON_KAFKA_SSL/);
  });
});
