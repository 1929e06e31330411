// Latency statistics for the scorecard, from a snapshot's encoded HDR histogram: quantiles with
// distribution-free confidence bounds (order statistics), the mean with its standard error, and the
// distribution in log-spaced buckets for the HTML plot. Pure.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { quantileRanks, zFor } from '../guard/bounds.js';
import { newHistogram } from '../stats/series.js';
import type { Snapshot } from '../stats/snapshot.js';

export function histogramOf(s: Snapshot): Histogram {
  return s.histogram ? hdr.decodeFromCompressedBase64(s.histogram, 32, false) : newHistogram();
}

/** The value (ms) at a 1-based rank, smallest first. */
function atRank(h: Histogram, rank: number): number {
  return h.totalCount === 0 ? 0 : h.getValueAtPercentile(Math.min(100, (100 * rank) / h.totalCount)) / 1000;
}

export interface Estimate {
  value: number;
  /** Bounds at the report's confidence; null upper: too few samples to bound it from above. */
  lower: number;
  upper: number | null;
}

/** The q-quantile (ms) with bounds from order statistics: true whatever the distribution. */
export function quantile(h: Histogram, q: number, confidence: number): Estimate | null {
  const n = h.totalCount;
  if (n === 0) return null;
  const r = quantileRanks(n, q, confidence);
  return { value: atRank(h, Math.max(1, Math.ceil(q * n))), lower: atRank(h, r.lower), upper: r.upper === Infinity ? null : atRank(h, r.upper) };
}

/** Mean (ms) with a normal-approximation bound (fine at the sample sizes a report is read at). */
export function mean(h: Histogram, confidence: number): Estimate | null {
  const n = h.totalCount;
  if (n === 0) return null;
  const m = h.mean / 1000;
  const se = h.stdDeviation / 1000 / Math.sqrt(n);
  const z = zFor(confidence);
  return { value: m, lower: Math.max(0, m - z * se), upper: n < 2 ? null : m + z * se };
}

/** Ratio candidate / legacy of two estimates, bounded by combining their bounds (conservative). */
export function ratioOf(c: Estimate | null, l: Estimate | null): { value: number; lower: number; upper: number | null } | null {
  if (!c || !l || l.value <= 0) return null;
  const lower = l.upper === null || l.upper <= 0 ? 0 : c.lower / l.upper;
  const upper = c.upper === null || l.lower <= 0 ? null : c.upper / l.lower;
  return { value: c.value / l.value, lower, upper };
}

export interface Bucket {
  /** Bucket bounds in ms (log-spaced, 10 per decade). */
  fromMs: number;
  toMs: number;
  /** Share of each backend's requests in the bucket. */
  legacy: number;
  candidate: number;
}

/** Both distributions over the same log-spaced buckets, as shares (for the HTML plot). */
export function distribution(legacy: Histogram, candidate: Histogram): Bucket[] {
  const all = [legacy, candidate].filter((h) => h.totalCount > 0);
  if (all.length === 0) return [];
  const minUs = Math.max(1, Math.min(...all.map((h) => h.minNonZeroValue)));
  const maxUs = Math.max(...all.map((h) => h.maxValue));
  const perDecade = 10;
  const lo = Math.floor(Math.log10(minUs) * perDecade);
  const hi = Math.ceil(Math.log10(maxUs + 1) * perDecade);
  const edges = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** ((lo + i) / perDecade));
  const shares = (h: Histogram) => {
    const counts = new Array<number>(edges.length - 1).fill(0);
    if (h.totalCount === 0) return counts;
    const it = (h as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      const i = Math.min(counts.length - 1, Math.max(0, Math.floor(Math.log10(Math.max(1, v.valueIteratedTo)) * perDecade) - lo));
      counts[i] += v.countAtValueIteratedTo;
    }
    return counts.map((c) => c / h.totalCount);
  };
  const l = shares(legacy);
  const c = shares(candidate);
  return l.map((share, i) => ({ fromMs: edges[i] / 1000, toMs: edges[i + 1] / 1000, legacy: share, candidate: c[i] }));
}
