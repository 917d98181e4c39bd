import type { Counter } from 'prom-client';

/**
 * Prometheus counters that follow totals kept elsewhere (a relay's or a bus's
 * own statistics): at each scrape, `catchUp` adds to the counter what the total
 * grew by since the last scrape, so the counter never goes back and nothing is
 * counted twice.
 */
export function followTotals() {
  const exported = new Map<string, number>();
  return function catchUp(counter: Counter<string>, key: string, total: number, labels?: Record<string, string>): void {
    const delta = total - (exported.get(key) ?? 0);
    if (delta > 0) {
      if (labels) counter.inc(labels, delta);
      else counter.inc(delta);
      exported.set(key, total);
    }
  };
}
