// Prometheus metrics on a registry of cutover's own. Nothing here runs per request: every value
// is read at scrape time from stats/ (cumulative counters, HDR histograms) and control/.
import { Counter, Gauge, Registry, collectDefaultMetrics, type Aggregator } from 'prom-client';
import type { Control } from '../control/control.js';
import type { LoopDelaySnapshot } from '../stats/loop-delay.js';
import type { SeriesView } from '../stats/series.js';
import type { Snapshot } from '../stats/snapshot.js';
import type { Stats } from '../stats/store.js';

/** Prometheus histogram buckets (seconds) for 1 ms .. 60 s upstream latency. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Window percentiles, one gauge each: cutover_upstream_window_p50_seconds and so on. */
const WINDOW_PERCENTILES: Array<[string, number]> = [
  ['p50', 50],
  ['p90', 90],
  ['p99', 99],
  ['p999', 99.9],
];
/**
 * prom-client's default metrics that `promtool check metrics` rejects: gauges named `_total`
 * (a suffix reserved for counters). Each is the sum over the type label of its namesake without
 * `_total` (nodejs_active_handles{type} and so on), which stays, so nothing is lost.
 */
const REJECTED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * Which metrics a process registers. One process: all of them. With workers (node:cluster), each
 * worker registers the data plane's (its own traffic; summed across workers) and the primary the
 * control plane's (split, maintenance, state, guard; one owner, never summed) plus the window
 * percentiles, computed from the workers' merged histograms (exact, not a sum of percentiles).
 */
export type MetricsRole = 'single' | 'worker' | 'primary';

export interface MetricsDeps {
  stats: Stats;
  control: Control;
  inFlight: () => number;
  version: string;
  role?: MetricsRole;
  /** The primary: the window snapshots of every route and backend, merged across the workers. */
  mergedWindows?: () => Promise<Array<{ route: string; backend: string; window: Snapshot }>>;
  /**
   * The event loop's delay since the previous call (stats/loop-delay.ts, `LoopDelay.take()`), read
   * once per scrape. Absent: no loop-delay metric.
   */
  loopDelay?: () => LoopDelaySnapshot;
}

export interface Metrics {
  registry: Registry;
  /** For other components (the guard) to register their metrics on the same registry. */
  counter(name: string, help: string, labelNames: string[]): Counter<string>;
  gauge(name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void, aggregator?: Aggregator): Gauge<string>;
  close(): void;
}

/** One window's figures as the percentile gauges read them (seconds). */
interface WindowRow {
  route: string;
  backend: string;
  count: number;
  at(percentile: number): number;
}

type View = { route: string; backend: string; forced: boolean; cumulative: SeriesView; window: SeriesView };

export function createMetrics(deps: MetricsDeps): Metrics {
  const role = deps.role ?? 'single';
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of REJECTED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  const counter = (name: string, help: string, labelNames: string[], collect?: (c: Counter<string>) => void) =>
    new Counter({ name, help, labelNames, registers: [registry], ...(collect ? { collect() { collect(this); } } : {}) });
  // Aggregator: how the primary combines the workers' values (prom-client's AggregatorRegistry).
  const gauge = (name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void | Promise<void>, aggregator: Aggregator = 'sum') =>
    new Gauge({ name, help, labelNames, registers: [registry], aggregator, ...(collect ? { collect() { return collect(this); } } : {}) });

  // One read of the stats per scrape, shared by every metric below (each collect() asks again):
  // the counters, the latency histogram and the window percentiles all come from it.
  let cached: { at: number; all: View[]; split: View[] } | undefined;
  const read = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 200) {
      const all = deps.stats.views();
      cached = { at: now, all, split: all.filter((v) => !v.forced) };
    }
    return cached;
  };
  if (role !== 'primary') dataPlaneMetrics(deps, read, counter, gauge, registry);
  const window = `over the last ${deps.stats.windowSeconds} s (stats.windowSeconds)`;
  if (role === 'single') windowGauges(gauge, window, () => localWindows(read().split));
  if (role === 'primary') windowGauges(gauge, window, async () => ((await deps.mergedWindows?.()) ?? []).map(mergedWindow));
  const unsubscribe = role === 'worker' ? () => {} : controlMetrics(deps, counter, gauge);
  if (deps.loopDelay) loopDelayGauges(gauge, deps.loopDelay);
  gauge('cutover_build_info', 'Always 1; labels carry the version.', ['version'], undefined, 'first').set({ version: deps.version }, 1);

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
 * Metrics on a registry nobody scrapes: for a worker's guard, which only records (its counters and
 * states would be zeros and idles summed into the primary's real ones).
 */
export function unscrapedMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    counter: (name, help, labelNames) => new Counter({ name, help, labelNames, registers: [registry] }),
    gauge: (name, help, labelNames, collect) => new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect() { collect(this); } } : {}) }),
    close: () => registry.clear(),
  };
}

type CounterFactory = (name: string, help: string, labelNames: string[], collect?: (c: Counter<string>) => void) => Counter<string>;
type GaugeFactory = (name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void | Promise<void>, aggregator?: Aggregator) => Gauge<string>;

/** What the proxy served: counters and the latency histogram, from the cumulative stats. */
function dataPlaneMetrics(deps: MetricsDeps, read: () => { all: View[]; split: View[] }, counter: CounterFactory, gauge: GaugeFactory, registry: Registry): void {
  // The per-backend metrics describe the split's traffic; requests forced by the override header
  // appear only in cutover_responses_total, with forced="true".
  const views = (): View[] => read().split;

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
  counter(
    'cutover_responses_total',
    'Every response a client got, by route ("(none)" when none matched), backend ("none" when cutover answered without one), status class, who produced it (upstream or cutover) and whether the override header forced the backend.',
    ['route', 'backend', 'code_class', 'source', 'forced'],
    (c) => {
      c.reset();
      for (const v of read().all) {
        const k = v.cumulative.counters;
        const forced = String(v.forced);
        CLASSES.forEach((cls, i) => k.status[i] > 0 && c.inc({ route: v.route, backend: v.backend, code_class: cls, source: 'upstream', forced }, k.status[i]));
        if (k.gatewayAnswers > 0) c.inc({ route: v.route, backend: v.backend, code_class: '5xx', source: 'cutover', forced }, k.gatewayAnswers);
      }
      for (const [route, byStatus] of deps.stats.answered) {
        for (const [status, n] of byStatus) {
          c.inc({ route: route === '' ? '(none)' : route, backend: 'none', code_class: `${(status / 100) | 0}xx`, source: 'cutover', forced: 'false' }, n);
        }
      }
    },
  );
  registry.registerMetric(latencyHistogram(views) as never);

  gauge('cutover_in_flight_requests', 'Requests being proxied right now.', [], (g) => g.set(deps.inFlight()));
}

/** The control plane's state: one owner (the primary with workers), never summed across processes. */
function controlMetrics(deps: MetricsDeps, counter: CounterFactory, gauge: GaugeFactory): () => void {
  gauge(
    'cutover_candidate_percent',
    'Share of requests the candidate gets, per route (0..100).',
    ['route'],
    (g) => {
      g.reset();
      for (const route of deps.control.routes()) g.set({ route }, deps.control.percent(route) ?? 0);
    },
    'first',
  );
  gauge('cutover_maintenance_enabled', '1 while maintenance mode answers every request with 503.', [], (g) => g.set(deps.control.maintenance.enabled ? 1 : 0), 'max');
  counter('cutover_state_write_failures_total', 'Writes of the state file that failed (each retry counts).', [], (c) => {
    c.reset();
    c.inc(deps.control.persistence().failures);
  });
  gauge(
    'cutover_state_persisted',
    '1 when every change is on disk or being written; 0 after a failed write until one succeeds, and without a state file.',
    [],
    (g) => g.set(deps.control.persistence().persisted ? 1 : 0),
    'first',
  );
  const changes = counter('cutover_control_changes_total', 'Changes of control state (split, maintenance, guard), by source.', ['source', 'kind']);
  return deps.control.onChange((c) => changes.inc({ source: c.source, kind: c.kind }));
}

/**
 * The sliding window as gauges: quantiles of the last windowSeconds go up and down, and so does
 * their sample size, which a summary's _count/_sum must not (Prometheus takes those as counters
 * and rate() over them goes wrong when the window moves). No responses in the window: NaN, not
 * a made-up 0. Rates and quantiles over time come from cutover_upstream_latency_seconds.
 */
function windowGauges(gauge: GaugeFactory, window: string, rows: () => WindowRow[] | Promise<WindowRow[]>): void {
  // One read per scrape, shared by the gauges below (each collect() asks again).
  let cached: { at: number; rows: Promise<WindowRow[]> } | undefined;
  const read = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 200) cached = { at: now, rows: Promise.resolve(rows()) };
    return cached.rows;
  };
  for (const [suffix, percentile] of WINDOW_PERCENTILES) {
    const help = `Upstream latency, ${percentile}th percentile ${window}, exact from the HDR histograms; NaN without responses.`;
    gauge(`cutover_upstream_window_${suffix}_seconds`, help, ['route', 'backend'], async (g) => {
      const all = await read();
      g.reset();
      for (const r of all) g.set({ route: r.route, backend: r.backend }, r.count === 0 ? Number.NaN : r.at(percentile));
    });
  }
  gauge('cutover_upstream_window_responses', `Upstream responses ${window}: the sample behind the window percentiles.`, ['route', 'backend'], async (g) => {
    const all = await read();
    g.reset();
    for (const r of all) g.set({ route: r.route, backend: r.backend }, r.count);
  });
}

/**
 * The loop's delay since the previous scrape: cutover_event_loop_delay_{p50,p99,max}_seconds (not
 * one gauge with a quantile label: promtool keeps that label for summaries) and the samples behind
 * them, from one read per scrape. Workers combine by max: the worst process is what the tail of the
 * requests sees.
 */
function loopDelayGauges(gauge: GaugeFactory, loopDelay: () => LoopDelaySnapshot): void {
  let cached: { at: number; snap: LoopDelaySnapshot } | undefined;
  const read = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 200) cached = { at: now, snap: loopDelay() };
    return cached.snap;
  };
  const figures: Array<[string, string, (s: LoopDelaySnapshot) => number]> = [
    ['p50', 'median', (s) => s.p50Ms],
    ['p99', '99th percentile', (s) => s.p99Ms],
    ['max', 'maximum', (s) => s.maxMs],
  ];
  for (const [suffix, what, get] of figures) {
    const help = `Event-loop delay since the previous scrape, ${what} (perf_hooks.monitorEventLoopDelay, beyond its sampling interval).`;
    gauge(`cutover_event_loop_delay_${suffix}_seconds`, help, [], (g) => g.set(get(read()) / 1000), 'max');
  }
  gauge('cutover_event_loop_delay_samples', 'Event-loop delay samples since the previous scrape: the sample behind cutover_event_loop_delay_*_seconds.', [], (g) => g.set(read().count), 'sum');
}

function localWindows(split: View[]): WindowRow[] {
  return split.map((v) => ({ route: v.route, backend: v.backend, count: v.window.histogram.totalCount, at: (p: number) => v.window.histogram.getValueAtPercentile(p) / 1e6 }));
}

const SNAPSHOT_PERCENTILE: Record<number, keyof Snapshot['latencyMs']> = { 50: 'p50', 90: 'p90', 99: 'p99', 99.9: 'p999' };

function mergedWindow(r: { route: string; backend: string; window: Snapshot }): WindowRow {
  return { route: r.route, backend: r.backend, count: r.window.latencyMs.count, at: (p) => r.window.latencyMs[SNAPSHOT_PERCENTILE[p]] / 1000 };
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
        const { counts, total, sumUs } = bucketCounts(v.cumulative.histogram as unknown as HdrCounts);
        LATENCY_BUCKETS.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: counts[i] }));
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: total });
        values.push({ metricName: `${name}_sum`, labels, value: sumUs / 1e6 });
        values.push({ metricName: `${name}_count`, labels, value: total });
      }
      return { name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

/** The parts of hdr-histogram-js's JsHistogram that bucketCounts reads (public methods, not in its typings). */
interface HdrCounts {
  totalCount: number;
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
  highestEquivalentValue(v: number): number;
  medianEquivalentValue(v: number): number;
}

/**
 * Cumulative Prometheus bucket counts (LATENCY_BUCKETS, seconds) and the sum (µs) of an HDR
 * histogram (µs), in one pass over its counts array with the bucket moving forward: the values rise
 * with the index. This used to take the recorded-values iterator (an object per step) with every
 * bucket tried per value, then the mean (a second full pass): 10 to 40 ms of one scrape under load.
 * Same figures: a value counts in a bucket when its highest equivalent value is within it, and the
 * sum is the mean's (median equivalent value times count).
 */
export function bucketCounts(h: HdrCounts): { counts: number[]; total: number; sumUs: number } {
  const counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  let total = 0;
  let sumUs = 0;
  if (h.totalCount > 0) {
    let b = 0;
    for (let i = 0; i < h.countsArrayLength; i++) {
      const n = h.getCountAtIndex(i);
      if (n === 0) continue;
      const at = h.valueFromIndex(i);
      const seconds = h.highestEquivalentValue(at) / 1e6;
      while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) b++;
      if (b < LATENCY_BUCKETS.length) counts[b] += n;
      total += n;
      sumUs += h.medianEquivalentValue(at) * n;
      if (total === h.totalCount) break;
    }
    for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
  }
  return { counts, total, sumUs };
}
