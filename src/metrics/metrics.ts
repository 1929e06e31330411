// Prometheus metrics on a registry of cutover's own. Nothing here runs per request: every value
// is read at scrape time from stats/ (cumulative counters, HDR histograms) and control/.
import { Counter, Gauge, Registry, collectDefaultMetrics, type Aggregator } from 'prom-client';
import type { Control } from '../control/control.js';
import type { LoopDelaySnapshot } from '../stats/loop-delay.js';
import { nodeMetrics } from './nodes.js';
import type { DataPlaneFigures, FiguresPort, SeriesRow } from './port.js';
import { registerShadowMetrics } from './shadow.js';

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
 * The registry lives in the control plane only: one process's, or the workers' primary's. The
 * data plane's figures come through a port, read once per scrape: one process's own series, or
 * every worker's merged by the primary (counters added up, histograms merged exactly, never a
 * sum of percentiles), so a worker carries no registry and no prom-client.
 */
export interface MetricsDeps {
  control: Control;
  figures: FiguresPort;
  version: string;
  /** stats.windowSeconds, named in the window gauges' help. */
  windowSeconds: number;
}

export interface Metrics {
  registry: Registry;
  /** For other components (the guard) to register their metrics on the same registry. */
  counter(name: string, help: string, labelNames: string[]): Counter<string>;
  gauge(name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void, aggregator?: Aggregator): Gauge<string>;
  close(): void;
}

type View = SeriesRow;

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of REJECTED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  const counter = (name: string, help: string, labelNames: string[], collect?: (c: Counter<string>) => void | Promise<void>) =>
    new Counter({ name, help, labelNames, registers: [registry], ...(collect ? { collect() { return collect(this); } } : {}) });
  // (The aggregator option is prom-client's; with workers nothing is aggregated: the figures are merged first.)
  const gauge = (name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void | Promise<void>, aggregator: Aggregator = 'sum') =>
    new Gauge({ name, help, labelNames, registers: [registry], aggregator, ...(collect ? { collect() { return collect(this); } } : {}) });

  const read = oncePerScrape(deps.figures);
  dataPlaneMetrics(read, counter, gauge, registry);
  windowGauges(gauge, read, `over the last ${deps.windowSeconds} s (stats.windowSeconds)`);
  nodeMetrics(read, counter, gauge);
  registerShadowMetrics(registry, async () => (await read()).parity);
  workerMetrics(read, counter, gauge);
  loopDelayGauges(gauge, read);
  const unsubscribe = controlMetrics(deps, counter, gauge);
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

type CounterFactory = (name: string, help: string, labelNames: string[], collect?: (c: Counter<string>) => void | Promise<void>) => Counter<string>;
type GaugeFactory = (name: string, help: string, labelNames: string[], collect?: (g: Gauge<string>) => void | Promise<void>, aggregator?: Aggregator) => Gauge<string>;

/** One read of the data plane per scrape, shared by every metric below (each collect() asks). */
function oncePerScrape(figures: FiguresPort): () => Promise<DataPlaneFigures> {
  let cached: { at: number; figures: Promise<DataPlaneFigures> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > 200) cached = { at: now, figures: Promise.resolve(figures()) };
    return cached.figures;
  };
}

type Read = () => Promise<DataPlaneFigures>;

/** What the proxy served: counters and the latency histogram, from the cumulative stats. */
function dataPlaneMetrics(read: Read, counter: CounterFactory, gauge: GaugeFactory, registry: Registry): void {
  // The per-backend metrics describe the split's traffic; requests forced by the override header
  // appear only in cutover_responses_total, with forced="true".
  const views = async (): Promise<View[]> => (await read()).series.filter((v) => !v.forced);

  // Counters mirrored from the cumulative stats: reset, then set to the absolute value.
  counter('cutover_requests_total', 'Requests forwarded, by route, backend and response status class.', ['route', 'backend', 'code_class'], async (c) => {
    const all = await views();
    c.reset();
    for (const v of all) {
      const s = v.cumulative.counters.status;
      CLASSES.forEach((cls, i) => c.inc({ route: v.route, backend: v.backend, code_class: cls }, s[i]));
    }
  });
  counter('cutover_upstream_errors_total', 'Upstream transport failures (no usable response), by kind.', ['route', 'backend', 'kind'], async (c) => {
    const all = await views();
    c.reset();
    for (const v of all) {
      const k = v.cumulative.counters;
      for (const kind of ['refused', 'reset', 'timeout', 'other'] as const) c.inc({ route: v.route, backend: v.backend, kind }, k[kind]);
    }
  });
  counter('cutover_client_aborts_total', 'Requests whose client went away before the response was complete.', ['route', 'backend'], async (c) => {
    const all = await views();
    c.reset();
    for (const v of all) c.inc({ route: v.route, backend: v.backend }, v.cumulative.counters.clientAborts);
  });
  counter(
    'cutover_responses_total',
    'Every response a client got, by route ("(none)" when none matched), backend ("none" when cutover answered without one), status class, who produced it (upstream or cutover) and whether the override header forced the backend.',
    ['route', 'backend', 'code_class', 'source', 'forced'],
    async (c) => {
      const f = await read();
      c.reset();
      for (const v of f.series) {
        const k = v.cumulative.counters;
        const forced = String(v.forced);
        CLASSES.forEach((cls, i) => k.status[i] > 0 && c.inc({ route: v.route, backend: v.backend, code_class: cls, source: 'upstream', forced }, k.status[i]));
        if (k.gatewayAnswers > 0) c.inc({ route: v.route, backend: v.backend, code_class: '5xx', source: 'cutover', forced }, k.gatewayAnswers);
      }
      for (const [route, status, n] of f.answered) {
        c.inc({ route: route === '' ? '(none)' : route, backend: 'none', code_class: `${(status / 100) | 0}xx`, source: 'cutover', forced: 'false' }, n);
      }
    },
  );
  registry.registerMetric(latencyHistogram(views) as never);

  gauge('cutover_in_flight_requests', 'Requests being proxied right now.', [], async (g) => g.set((await read()).inFlight));
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
function windowGauges(gauge: GaugeFactory, read: Read, window: string): void {
  const rows = async () => (await read()).series.filter((v) => !v.forced);
  for (const [suffix, percentile] of WINDOW_PERCENTILES) {
    const help = `Upstream latency, ${percentile}th percentile ${window}, exact from the HDR histograms; NaN without responses.`;
    gauge(`cutover_upstream_window_${suffix}_seconds`, help, ['route', 'backend'], async (g) => {
      const all = await rows();
      g.reset();
      for (const r of all) {
        const h = r.window.histogram;
        g.set({ route: r.route, backend: r.backend }, h.totalCount === 0 ? Number.NaN : h.getValueAtPercentile(percentile) / 1e6);
      }
    });
  }
  gauge('cutover_upstream_window_responses', `Upstream responses ${window}: the sample behind the window percentiles.`, ['route', 'backend'], async (g) => {
    const all = await rows();
    g.reset();
    for (const r of all) g.set({ route: r.route, backend: r.backend }, r.window.histogram.totalCount);
  });
}

/** Each worker's process, as its primary last heard (CPU, memory): the workers carry no registry. */
function workerMetrics(read: Read, counter: CounterFactory, gauge: GaugeFactory): void {
  counter('cutover_worker_cpu_seconds_total', 'CPU time (user + system) of each worker process since it started.', ['worker'], async (c) => {
    const w = (await read()).workers ?? [];
    c.reset();
    for (const { id, process: p } of w) c.inc({ worker: String(id) }, p.cpuMicros / 1e6);
  });
  gauge('cutover_worker_resident_memory_bytes', 'Resident memory of each worker process.', ['worker'], async (g) => {
    const w = (await read()).workers ?? [];
    g.reset();
    for (const { id, process: p } of w) g.set({ worker: String(id) }, p.rssBytes);
  });
}

/**
 * The data plane's loop delay over its last 10-20 s (DataPlane.loopDelay; with workers the worst
 * worker's): cutover_event_loop_delay_{p50,p99,max}_seconds (not one gauge with a quantile label:
 * promtool keeps that label for summaries) and the samples behind them.
 */
function loopDelayGauges(gauge: GaugeFactory, read: Read): void {
  const figures: Array<[string, string, (s: LoopDelaySnapshot) => number]> = [
    ['p50', 'median', (s) => s.p50Ms],
    ['p99', '99th percentile', (s) => s.p99Ms],
    ['max', 'maximum', (s) => s.maxMs],
  ];
  for (const [suffix, what, get] of figures) {
    const help = `Event-loop delay of the data plane over the last 10-20 s (with workers: the worst worker's), ${what} (perf_hooks.monitorEventLoopDelay, beyond its sampling interval).`;
    gauge(`cutover_event_loop_delay_${suffix}_seconds`, help, [], async (g) => {
      const l = (await read()).loopDelay;
      g.reset();
      if (l) g.set(get(l) / 1000);
    });
  }
  gauge('cutover_event_loop_delay_samples', 'Event-loop delay samples behind cutover_event_loop_delay_*_seconds.', [], async (g) => {
    const l = (await read()).loopDelay;
    g.reset();
    if (l) g.set(l.count);
  });
}

/**
 * A Prometheus histogram whose buckets are read from the cumulative HDR histograms at scrape
 * time, so the request path records latency once (into HDR) and never into prom-client.
 */
function latencyHistogram(views: () => Promise<View[]>) {
  const name = 'cutover_upstream_latency_seconds';
  return {
    name,
    help: 'Upstream latency from dispatch to response headers, by route and backend.',
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const v of await views()) {
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
