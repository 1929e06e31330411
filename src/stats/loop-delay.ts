// How late this process's event loop runs: a thin shell over perf_hooks.monitorEventLoopDelay.
// Every request's latency includes the time its callbacks waited behind whatever else held the
// loop (a GC pause, a periodic task, a lazy compile), so this is where a stall shows first, long
// before it shows in CPU per request.
//
// The sampler is a libuv timer in C++ (no JS runs per sample) that fires every `resolutionMs`;
// each sample is the time between two firings. A stall of D ms therefore shows as one sample of
// about resolution + D, which is why the resolution is subtracted below. The resolution only sets
// how often the loop is sampled, not the precision (each sample is timed with hrtime): 10 ms is
// 100 samples a second, a cost nobody can measure, and still 5+ samples per guard tick (500 ms),
// so p99 over an interval of a few seconds is well populated. A finer one (1 ms) wakes an idle
// process 1,000 times a second for no better stall detection: a stall is one long sample whatever
// the resolution. Note that the figures are per sample, not per unit of time: a 100 ms stall is
// one sample among the ~100 of a second, so it moves `maxMs` at once and p99 only when stalls
// recur; read both.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The loop's delay over one interval, plain data (sent over IPC by a worker, merged by its primary). */
export interface LoopDelaySnapshot {
  /** Delay beyond the sampling interval, ms; 0 when there were no samples. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Samples behind the figures. */
  count: number;
}

export const DEFAULT_RESOLUTION_MS = 10;

export class LoopDelay {
  private readonly histogram: IntervalHistogram;
  private enabled = false;

  constructor(readonly resolutionMs = DEFAULT_RESOLUTION_MS) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  start(): this {
    if (!this.enabled) this.histogram.enable();
    this.enabled = true;
    return this;
  }

  /** Everything since start() or the last reset(). */
  snapshot(): LoopDelaySnapshot {
    const h = this.histogram;
    if (h.count === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0, count: 0 };
    // ns, each sample one whole interval between two firings: the delay is what exceeds it.
    const late = (ns: number) => Math.max(0, Math.round((ns / 1e6 - this.resolutionMs) * 1000) / 1000);
    return { p50Ms: late(h.percentile(50)), p99Ms: late(h.percentile(99)), maxMs: late(h.max), count: h.count };
  }

  /** Start a new interval. */
  reset(): void {
    this.histogram.reset();
  }

  /** One interval's figures, and a new interval begins (one reader: a scrape, a worker's report). */
  take(): LoopDelaySnapshot {
    const s = this.snapshot();
    this.reset();
    return s;
  }

  close(): void {
    if (this.enabled) this.histogram.disable();
    this.enabled = false;
  }
}

/**
 * Several processes' snapshots as one: the worst of each figure and the samples summed. The max is
 * exact; p50 and p99 are the worst process's (an upper bound of the pooled percentile), which is
 * what an alert on "some data-plane process stalls" wants.
 */
export function mergeLoopDelay(snaps: readonly LoopDelaySnapshot[]): LoopDelaySnapshot {
  const out: LoopDelaySnapshot = { p50Ms: 0, p99Ms: 0, maxMs: 0, count: 0 };
  for (const s of snaps) {
    if (s.count === 0) continue;
    out.p50Ms = Math.max(out.p50Ms, s.p50Ms);
    out.p99Ms = Math.max(out.p99Ms, s.p99Ms);
    out.maxMs = Math.max(out.maxMs, s.maxMs);
    out.count += s.count;
  }
  return out;
}
