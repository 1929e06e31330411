// What the guard reads from one series for one window: counters summed over the window's
// slices (no histogram merge unless a relative latency rule needs one) and the ages of the
// requests still in flight. Pure reading; the runner and the policy tests share it.
import type { Histogram } from 'hdr-histogram-js';
import type { Series } from '../stats/series.js';
import type { RouteSeries } from '../stats/store.js';
import type { RoutePolicy } from './policy.js';
import type { Figures, LatencyDistribution, WindowFigures } from './rules.js';

/** One backend's figures over one window: counters only, unless a relative latency rule needs the histogram. */
export function figuresOf(
  series: Series,
  now: number,
  seconds: number,
  inFlightMs: number[],
  timeoutMs: number,
  withLatency: boolean,
): { figures: Figures; histogram: Histogram | undefined } {
  const w = series.windowCounters(now, seconds, withLatency);
  const c = w.counters;
  const h = w.histogram;
  const latency = h && distributionOf(h);
  const figures: Figures = {
    requests: c.requests - c.unjudged,
    errors: c.status[4] + c.refused + c.reset + c.timeout + c.other,
    timed: w.timed,
    slow: c.slow,
    inFlightMs,
    timeoutMs,
    latency,
  };
  return { figures, histogram: h };
}

/** An HDR histogram (µs) as the guard's rules read it (ms). */
export function distributionOf(h: Histogram): LatencyDistribution {
  return {
    count: h.totalCount,
    valueAtRank: (rank) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(Math.min(100, (100 * rank) / h.totalCount)) / 1000),
    countAbove: (ms) => countAbove(h, ms * 1000),
  };
}

/** Recorded values above `us` in an HDR histogram. */
export function countAbove(h: Histogram, us: number): number {
  let n = 0;
  const it = (h as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    if (v.valueIteratedTo > us) n += v.countAtValueIteratedTo;
  }
  return n;
}


/**
 * A route's figures over the windows to judge, with the requests in flight (only those old enough
 * to count as slow or timed out; all of them for the ratio rule), and the histograms when the
 * ratio rule needs them (the wire snapshot carries them to the primary or the fleet's leader).
 */
export function readWindows(series: RouteSeries, now: number, seconds: readonly number[], policy: RoutePolicy, timeouts: Record<'legacy' | 'candidate', number>) {
  const ratio = policy.rules.maxP99Ratio !== null;
  const ages = { legacy: [] as number[], candidate: [] as number[] };
  for (const b of ['legacy', 'candidate'] as const) {
    const minAge = ratio ? 0 : Math.min(policy.rules.maxP99Ms ?? Infinity, timeouts[b]);
    ages[b] = series[b].inFlightAges(now, minAge, 1000);
  }
  return seconds.map((w) => {
    const c = figuresOf(series.candidate, now, w, ages.candidate, timeouts.candidate, ratio);
    const l = figuresOf(series.legacy, now, w, ages.legacy, timeouts.legacy, ratio);
    const figures: WindowFigures = { seconds: w, candidate: c.figures, legacy: l.figures };
    return { ...figures, histograms: { candidate: c.histogram, legacy: l.histogram } };
  });
}
