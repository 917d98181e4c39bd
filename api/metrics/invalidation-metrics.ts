/**
 * Metrics of the Redis invalidation bus, read from its totals at scrape time
 * (the bus belongs to the platform, the registry to an app or a processor
 * role): novacron_invalidation_subscriber_up,
 * novacron_invalidation_messages_total{outcome}, novacron_invalidation_publish_errors_total,
 * novacron_invalidation_resets_total, novacron_query_cache_l2_evictions_total{reason}.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RedisInvalidationBus } from '../../projections/cache-invalidation/index.ts';
import { followTotals } from '../../streams/metrics/totals.ts';

export function registerInvalidationMetrics(registry: Registry, bus: RedisInvalidationBus): void {
  new Gauge({
    name: 'novacron_invalidation_subscriber_up',
    help: '1 while this process is subscribed to the Redis invalidation channel (its L1 cache is in use); 0 before and while the subscription is lost (no subscriber in a processor role).',
    registers: [registry],
    collect() {
      this.set(bus.live ? 1 : 0);
    },
  });
  // Counters follow the bus's own totals: each scrape adds what happened since the last.
  const catchUp = followTotals();
  new Counter({
    name: 'novacron_invalidation_messages_total',
    help: 'Messages of the Redis invalidation channel: published (by this process), delivered (from other processes to this one’s cache) or ignored (not an invalidation).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const s = bus.stats();
      catchUp(this, 'published', s.published, { outcome: 'published' });
      catchUp(this, 'delivered', s.delivered, { outcome: 'delivered' });
      catchUp(this, 'ignored', s.ignored, { outcome: 'ignored' });
    },
  });
  new Counter({
    name: 'novacron_invalidation_publish_errors_total',
    help: 'Invalidations this process could not publish to Redis; each is followed by a flush of L2 and of every subscriber once Redis answers.',
    registers: [registry],
    collect() {
      catchUp(this, 'errors', bus.stats().publishErrors);
    },
  });
  new Counter({
    name: 'novacron_invalidation_resets_total',
    help: 'Times this process dropped its whole L1 cache because invalidations may have been lost (subscription lost or re-established, or a flush message).',
    registers: [registry],
    collect() {
      catchUp(this, 'resets', bus.stats().resets);
    },
  });
  new Counter({
    name: 'novacron_query_cache_l2_evictions_total',
    help: 'L2 cache entries evicted by the invalidations this process published (invalidated), and L2 flushes (a new epoch) after failed publishes (flushed, counted once per flush).',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      const s = bus.stats();
      catchUp(this, 'invalidated', s.l2Evicted, { reason: 'invalidated' });
      catchUp(this, 'flushed', s.l2Flushes, { reason: 'flushed' });
    },
  });
}
