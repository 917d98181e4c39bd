/**
 * The relay's Prometheus metrics, read from its status at scrape time:
 * novacron_relay_lag_events, novacron_relay_published_position,
 * novacron_relay_up, novacron_relay_events_total{topic},
 * novacron_relay_batches_total, novacron_relay_resumes_total.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Relay } from './relay.ts';
import { followTotals } from '../../streams/metrics/totals.ts';

export function registerRelayMetrics(registry: Registry, relay: Relay): void {
  const status = () => relay.status();
  new Gauge({
    name: 'novacron_relay_lag_events',
    help: 'Events in the event store not yet in Kafka: head position − last published position.',
    registers: [registry],
    async collect() {
      this.set((await status()).lag);
    },
  });
  new Gauge({
    name: 'novacron_relay_published_position',
    help: 'Highest event store position known to be in Kafka.',
    registers: [registry],
    async collect() {
      this.set((await status()).published);
    },
  });
  new Gauge({
    name: 'novacron_relay_up',
    help: '1 while the relay publishes; 0 while it resumes, retries after a failure, or has stopped (state failed: an error it cannot retry).',
    registers: [registry],
    async collect() {
      this.set((await status()).state === 'running' ? 1 : 0);
    },
  });
  // Counters follow the relay's own totals: each scrape adds what happened since the last.
  const catchUp = followTotals();
  new Counter({
    name: 'novacron_relay_events_total',
    help: 'Events the relay published, by topic.',
    labelNames: ['topic'] as const,
    registers: [registry],
    async collect() {
      for (const [topic, total] of Object.entries((await status()).sent)) catchUp(this, `events:${topic}`, total, { topic });
    },
  });
  new Counter({
    name: 'novacron_relay_batches_total',
    help: 'Batches the relay published (each acknowledged by every partition before the next is sent).',
    registers: [registry],
    async collect() {
      catchUp(this, 'batches', (await status()).batches);
    },
  });
  new Counter({
    name: 'novacron_relay_resumes_total',
    help: 'Times the relay worked out from Kafka where to resume (its start, and after each failure).',
    registers: [registry],
    async collect() {
      catchUp(this, 'resumes', (await status()).resumes);
    },
  });
}
