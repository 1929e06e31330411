// Prometheus metrics on a registry of cutover's own. Nothing here runs per request: every value
// is read at scrape time from stats/ (cumulative counters, HDR histograms) and control/.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Control } from '../control/control.js';
import type { SeriesView } from '../stats/series.js';
import type { Stats } from '../stats/store.js';

/** Prometheus histogram buckets (seconds) for 1 ms .. 60 s upstream latency. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const QUANTILES: Array<[string, number]> = [
  ['0.5', 50],
  ['0.9', 90],
  ['0.99', 99],
  ['0.999', 99.9],
];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

export interface MetricsDeps {
  stats: Stats;
  control: Control;
  inFlight: () => number;
  version: string;
}

export interface Metrics {
  registry: Registry;
  /** For other components (the guard) to register their metrics on the same registry. */
  counter(name: string, help: string, labelNames: string[]): Counter<string>;
  gauge(name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void): Gauge<string>;
  close(): void;
}

type View = { route: string; backend: string; cumulative: SeriesView; window: SeriesView };

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // One read of the stats per scrape, shared by the metrics below.
  let cached: { at: number; views: View[] } | undefined;
  const views = (): View[] => {
    const now = Date.now();
    if (!cached || now - cached.at > 200) cached = { at: now, views: deps.stats.views() };
    return cached.views;
  };

  const counter = (name: string, help: string, labelNames: string[], collect?: (c: Counter<string>) => void) =>
    new Counter({ name, help, labelNames, registers: [registry], ...(collect ? { collect() { collect(this); } } : {}) });
  const gauge = (name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect() { collect(this); } } : {}) });

  // Counters mirrored from the cumulative stats: reset, then set to the absolute value.
  counter('cutover_requests_total', 'Requests forwarded, by route, backend and response status class.', ['route', 'backend', 'code_class'], (c) => {
    c.reset();
    for (const v of views()) {
      const s = v.cumulative.counters.status;
      CLASSES.forEach((cls, i) => c.inc({ route: v.route, backend: v.backend, code_class: cls }, s[i]));
    }
  });
  counter('cutover_upstream_errors_total', 'Upstream transport failures (no usable response), by kind.', ['route', 'backend', 'kind'], (c) => {
    c.reset();
    for (const v of views()) {
      const k = v.cumulative.counters;
      for (const kind of ['refused', 'reset', 'timeout', 'other'] as const) c.inc({ route: v.route, backend: v.backend, kind }, k[kind]);
    }
  });
  counter('cutover_client_aborts_total', 'Requests whose client went away before the response was complete.', ['route', 'backend'], (c) => {
    c.reset();
    for (const v of views()) c.inc({ route: v.route, backend: v.backend }, v.cumulative.counters.clientAborts);
  });
  registry.registerMetric(windowSummary(views, deps.stats.windowSeconds) as never);
  registry.registerMetric(latencyHistogram(views) as never);

  gauge('cutover_candidate_percent', 'Share of requests the candidate gets, per route (0..100).', ['route'], (g) => {
    g.reset();
    for (const route of deps.control.routes()) g.set({ route }, deps.control.percent(route) ?? 0);
  });
  gauge('cutover_in_flight_requests', 'Requests being proxied right now.', [], (g) => g.set(deps.inFlight()));
  gauge('cutover_maintenance_enabled', '1 while maintenance mode answers every request with 503.', [], (g) =>
    g.set(deps.control.maintenance.enabled ? 1 : 0),
  );
  counter('cutover_state_write_failures_total', 'Writes of the state file that failed (each retry counts).', [], (c) => {
    c.reset();
    c.inc(deps.control.persistence().failures);
  });
  gauge('cutover_state_persisted', '1 when every change is on disk or being written; 0 after a failed write until one succeeds, and without a state file.', [], (g) =>
    g.set(deps.control.persistence().persisted ? 1 : 0),
  );
  const changes = counter('cutover_control_changes_total', 'Changes of control state (split, maintenance, guard), by source.', ['source', 'kind']);
  const unsubscribe = deps.control.onChange((c) => changes.inc({ source: c.source, kind: c.kind }));
  gauge('cutover_build_info', 'Always 1; labels carry the version.', ['version']).set({ version: deps.version }, 1);

  return {
    registry,
    counter: (name, help, labelNames) => counter(name, help, labelNames),
    gauge,
    close: () => {
      unsubscribe();
      registry.clear();
    },
  };
}

/**
 * A Prometheus histogram whose buckets are read from the cumulative HDR histograms at scrape
 * time, so the request path records latency once (into HDR) and never into prom-client.
 */
function latencyHistogram(views: () => View[]) {
  const name = 'cutover_upstream_latency_seconds';
  return {
    name,
    help: 'Upstream latency from dispatch to response headers, by route and backend.',
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    get() {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const v of views()) {
        const labels = { route: v.route, backend: v.backend };
        const h = v.cumulative.histogram as unknown as HdrIterable;
        const counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
        let total = 0;
        if (h.totalCount > 0) {
          const it = h.recordedValuesIterator;
          it.reset();
          while (it.hasNext()) {
            const step = it.next();
            const seconds = step.valueIteratedTo / 1e6;
            const n = step.countAtValueIteratedTo;
            total += n;
            for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]) counts[i] += n;
          }
        }
        LATENCY_BUCKETS.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: counts[i] }));
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: total });
        values.push({ metricName: `${name}_sum`, labels, value: total === 0 ? 0 : (h.mean * total) / 1e6 });
        values.push({ metricName: `${name}_count`, labels, value: total });
      }
      return { name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

/** Exact window quantiles from the HDR histograms, exposed as a Prometheus summary. */
function windowSummary(views: () => View[], windowSeconds: number) {
  const name = 'cutover_upstream_latency_window_seconds';
  const help = `Upstream latency quantiles over the last ${windowSeconds} s, exact from the HDR histograms.`;
  return {
    name,
    help,
    type: 'summary',
    aggregator: 'sum',
    reset() {},
    get() {
      const values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }> = [];
      for (const v of views()) {
        const labels = { route: v.route, backend: v.backend };
        const h = v.window.histogram;
        const n = h.totalCount;
        // No observations: NaN, as Prometheus summaries do, rather than a made-up 0.
        for (const [q, p] of QUANTILES) values.push({ labels: { ...labels, quantile: q }, value: n === 0 ? Number.NaN : h.getValueAtPercentile(p) / 1e6 });
        values.push({ metricName: `${name}_sum`, labels, value: n === 0 ? 0 : (h.mean * n) / 1e6 });
        values.push({ metricName: `${name}_count`, labels, value: n });
      }
      return { name, help, type: 'summary', values, aggregator: 'sum' };
    },
  };
}

interface HdrIterable {
  totalCount: number;
  mean: number;
  recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } };
}
