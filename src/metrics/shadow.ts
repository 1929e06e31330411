// The shadow tap's metrics, read from the parity figures at scrape time (nothing per request):
// copies by outcome, mismatches by endpoint, and the paired latency as a histogram. Here and not
// in parity/, so that the data plane's parity code never imports prom-client; it hands over a
// function that returns the figures (one process's, or every worker's merged by the primary).
import hdr from 'hdr-histogram-js';
import { Counter, type Registry } from 'prom-client';
import type { ParitySnapshot } from '../parity/figures.js';

/** Buckets (seconds) of the paired difference: finer at the low end than the upstream latency's (metrics.ts imports this file). */
export const DIFFERENCE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Outcomes of cutover_shadow_requests_total. */
export const SHADOW_OUTCOMES = ['matched', 'mismatched', 'skipped', 'dropped', 'error'] as const;

type Figures = () => Promise<Record<string, ParitySnapshot>> | Record<string, ParitySnapshot>;

/**
 * cutover_shadow_requests_total{route,outcome}, cutover_shadow_mismatches_total{route,endpoint}
 * (endpoints capped like the figures': past the cap they count as `other`) and
 * cutover_shadow_latency_difference_seconds{route,backend}. `figures` is read once per scrape
 * by the caller (metrics.ts's oncePerScrape): the three metrics share that read.
 */
export function registerShadowMetrics(registry: Registry, figures: Figures): void {
  const read = async () => Object.entries(await figures());
  new Counter({
    name: 'cutover_shadow_requests_total',
    help: 'Sampled shadow copies by outcome: matched, mismatched (compared and different, learned noise excluded), skipped (a body over maxBodyBytes), dropped (maxInFlight reached), error (the shadow or noise copy failed).',
    labelNames: ['route', 'outcome'],
    registers: [registry],
    async collect() {
      const all = await read();
      this.reset();
      for (const [route, s] of all) {
        const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
        const values: Record<(typeof SHADOW_OUTCOMES)[number], number> = { matched: s.matched, mismatched: s.mismatched, skipped: s.skipped, dropped: s.dropped, error: errors };
        for (const outcome of SHADOW_OUTCOMES) this.inc({ route, outcome }, values[outcome]);
      }
    },
  });
  new Counter({
    name: 'cutover_shadow_mismatches_total',
    help: 'Shadow comparisons that differed, by route and endpoint (method and path template; past the endpoint cap: other).',
    labelNames: ['route', 'endpoint'],
    registers: [registry],
    async collect() {
      const all = await read();
      this.reset();
      for (const [route, s] of all) for (const [endpoint, e] of Object.entries(s.endpoints)) this.inc({ route, endpoint }, e.mismatched);
    },
  });
  registry.registerMetric(latencyDifference(read) as never);
}

/**
 * The paired latency (both backends on the same shadowed requests) as a histogram per route and
 * backend: how much slower that backend answered than the other, read from the figures' HDR
 * histograms (pairs with no difference are in neither).
 */
function latencyDifference(read: () => Promise<Array<[string, ParitySnapshot]>>) {
  const name = 'cutover_shadow_latency_difference_seconds';
  const help = 'Paired shadow latency: how much slower this backend answered than the other on the same request, by route and backend.';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const [route, s] of await read()) {
        for (const [backend, encoded] of [['candidate', s.latency.slower], ['legacy', s.latency.faster]] as const) {
          const labels = { route, backend };
          const counts = new Array<number>(DIFFERENCE_BUCKETS.length).fill(0);
          let total = 0;
          let sum = 0;
          if (encoded !== '') {
            const h = hdr.decodeFromCompressedBase64(encoded, 32, false);
            total = h.totalCount;
            sum = (h.mean * total) / 1e6;
            for (let i = 0; i < DIFFERENCE_BUCKETS.length; i++) counts[i] = countAtOrBelow(h, DIFFERENCE_BUCKETS[i] * 1e6);
            h.destroy();
          }
          DIFFERENCE_BUCKETS.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: counts[i] }));
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: total });
          values.push({ metricName: `${name}_sum`, labels, value: sum });
          values.push({ metricName: `${name}_count`, labels, value: total });
        }
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

function countAtOrBelow(h: hdr.Histogram, us: number): number {
  let n = 0;
  const it = (h as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const step = it.next();
    if (step.valueIteratedTo <= us) n += step.countAtValueIteratedTo;
  }
  return n;
}
