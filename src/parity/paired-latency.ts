// The paired latency of shadowed requests (candidate minus legacy on the same request) as a
// summary with signed quantiles, from the two HDR histograms of |difference|. Pure.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { PairedLatency } from './figures-types.js';

const ms = (us: number) => Math.round(us) / 1000;

export function summarise(slower: Histogram, faster: Histogram, same: number, sumUs: number): PairedLatency {
  const ns = slower.totalCount;
  const nf = faster.totalCount;
  const count = ns + nf + same;
  // Signed quantile: the faster pairs (most negative first), the equal ones, then the slower.
  const at = (q: number) => {
    if (count === 0) return 0;
    const k = Math.max(1, Math.ceil(q * count));
    if (k <= nf) return -ms(faster.getValueAtPercentile((100 * (nf - k + 1)) / nf));
    if (k <= nf + same) return 0;
    return ms(slower.getValueAtPercentile((100 * (k - nf - same)) / ns));
  };
  return {
    count,
    candidateSlower: ns,
    candidateFaster: nf,
    meanMs: count === 0 ? 0 : ms(sumUs / count),
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    sumUs,
    same,
    slower: ns === 0 ? '' : hdr.encodeIntoCompressedBase64(slower),
    faster: nf === 0 ? '' : hdr.encodeIntoCompressedBase64(faster),
  };
}
