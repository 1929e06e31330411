// The shadow taps' figures as metrics, read at scrape time (nothing per request): one process's
// ParityStore, or every worker's merged by the primary.
import { Counter, type Registry } from 'prom-client';
import type { ParitySnapshot } from '../parity/figures.js';

/** Outcomes of cutover_shadow_requests_total. */
export const SHADOW_OUTCOMES = ['matched', 'mismatched', 'skipped', 'dropped', 'error'] as const;

export function registerShadowMetrics(registry: Registry, snapshots: () => Promise<Record<string, ParitySnapshot>> | Record<string, ParitySnapshot>): void {
  new Counter({
    name: 'cutover_shadow_requests_total',
    help: 'Sampled shadow copies by outcome: matched, mismatched (compared and different), skipped (a body over maxBodyBytes), dropped (maxInFlight reached), error (the shadow failed).',
    labelNames: ['route', 'outcome'],
    registers: [registry],
    async collect() {
      const all = await snapshots();
      this.reset();
      for (const [route, s] of Object.entries(all)) {
        const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
        const values: Record<(typeof SHADOW_OUTCOMES)[number], number> = { matched: s.matched, mismatched: s.mismatched, skipped: s.skipped, dropped: s.dropped, error: errors };
        for (const outcome of SHADOW_OUTCOMES) this.inc({ route, outcome }, values[outcome]);
      }
    },
  });
}
