// Snapshots are plain data: counters, the derived figures and the encoded HDR histogram, so that
// snapshots taken in several processes can be merged exactly (percentiles from the merged
// histogram, never averages of percentiles).
import hdr from 'hdr-histogram-js';
import { Counters, newHistogram, type SeriesView } from './series.js';

export interface Snapshot {
  requests: number;
  /** (5xx + transport errors) / judged requests (all but the early aborts); 0 when there were none. */
  errorRate: number;
  errors: { status5xx: number; refused: number; reset: number; timeout: number; other: number };
  status: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  clientAborts: number;
  /** Aborts before any response and before the slow threshold: left out of the guard's figures. */
  unjudged: number;
  /** Requests slower than the guard's latency threshold (responses, timeouts, late aborts). */
  slow: number;
  /** 502/504 answers cutover wrote itself because the backend failed before responding. */
  gatewayAnswers: number;
  /** Latency from dispatch to the upstream's response headers, in milliseconds. */
  latencyMs: { count: number; mean: number; p50: number; p90: number; p95: number; p99: number; p999: number; max: number };
  /** HdrHistogram compressed base64 encoding of the latency histogram (µs). */
  histogram: string;
}

const round3 = (us: number) => Math.round(us) / 1000;

export function toSnapshot(view: SeriesView): Snapshot {
  const c = view.counters;
  const h = view.histogram;
  const transport = c.refused + c.reset + c.timeout + c.other;
  const empty = h.totalCount === 0;
  const at = (p: number) => (empty ? 0 : round3(h.getValueAtPercentile(p)));
  return {
    requests: c.requests,
    errorRate: c.requests - c.unjudged === 0 ? 0 : (c.status[4] + transport) / (c.requests - c.unjudged),
    errors: { status5xx: c.status[4], refused: c.refused, reset: c.reset, timeout: c.timeout, other: c.other },
    status: { '1xx': c.status[0], '2xx': c.status[1], '3xx': c.status[2], '4xx': c.status[3], '5xx': c.status[4] },
    clientAborts: c.clientAborts,
    unjudged: c.unjudged,
    slow: c.slow,
    gatewayAnswers: c.gatewayAnswers,
    latencyMs: {
      count: h.totalCount,
      mean: empty ? 0 : round3(h.mean),
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: empty ? 0 : round3(h.maxValue),
    },
    histogram: empty ? '' : hdr.encodeIntoCompressedBase64(h),
  };
}

/** Merge snapshots (from several processes or replicas) into one, exactly. */
export function mergeSnapshots(snaps: readonly Snapshot[]): Snapshot {
  return toSnapshot(mergeViews(snaps));
}

/** The same merge as a raw view (counters and the decoded histogram), for the metrics. */
export function mergeViews(snaps: readonly Snapshot[]): SeriesView {
  const view: SeriesView = { counters: new Counters(), histogram: newHistogram() };
  const c = view.counters;
  for (const s of snaps) {
    c.requests += s.requests;
    c.status[0] += s.status['1xx'];
    c.status[1] += s.status['2xx'];
    c.status[2] += s.status['3xx'];
    c.status[3] += s.status['4xx'];
    c.status[4] += s.status['5xx'];
    c.refused += s.errors.refused;
    c.reset += s.errors.reset;
    c.timeout += s.errors.timeout;
    c.other += s.errors.other;
    c.clientAborts += s.clientAborts;
    c.unjudged += s.unjudged ?? 0;
    c.slow += s.slow ?? 0;
    c.gatewayAnswers += s.gatewayAnswers ?? 0;
    if (s.histogram) view.histogram.add(hdr.decodeFromCompressedBase64(s.histogram, 32, false));
  }
  return view;
}
