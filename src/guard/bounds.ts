// Confidence bounds the guard's verdicts rest on. A rule breaches only when a bound says the
// candidate is past its threshold, and is healthy only when the other bound says it is not;
// between the two there is not enough evidence yet. All pure, all one-sided at `confidence`.
import jstat from 'jstat';

const { jStat } = jstat;

export interface Bounds {
  lower: number;
  upper: number;
}

const zCache = new Map<number, number>();

/** The standard normal quantile for a one-sided bound at `confidence` (0.99 → 2.326). */
export function zFor(confidence: number): number {
  let z = zCache.get(confidence);
  if (z === undefined) zCache.set(confidence, (z = jStat.normal.inv(confidence, 0, 1)));
  return z;
}

/**
 * Exact (Clopper-Pearson) one-sided bounds for a proportion: x events in n trials. The lower
 * bound is the smallest rate that makes x or more events at least (1 - confidence) likely; the
 * upper bound the largest that makes x or fewer so. Exact at small counts, where the normal
 * approximation lies (one failure in one request is not a 100 % error rate).
 */
export function proportionBounds(x: number, n: number, confidence: number): Bounds {
  if (n <= 0) return { lower: 0, upper: 1 };
  const a = 1 - confidence;
  const lower = x === 0 ? 0 : x === n ? a ** (1 / n) : jStat.beta.inv(a, x, n - x + 1);
  const upper = x === n ? 1 : x === 0 ? 1 - a ** (1 / n) : jStat.beta.inv(confidence, x + 1, n - x);
  return { lower, upper };
}

/** Wilson score interval at `z` (two-sided form, each side used as a one-sided bound). */
function wilson(x: number, n: number, z: number): Bounds {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = x / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const d = 1 + z2 / n;
  return { lower: Math.max(0, (centre - spread) / d), upper: Math.min(1, (centre + spread) / d) };
}

/**
 * One-sided bounds for the difference of two proportions p1 - p2 (candidate minus legacy), by
 * Newcombe's hybrid score method: well behaved at small counts and at 0 % or 100 %, where the
 * plain two-proportion z-test is not.
 */
export function differenceBounds(x1: number, n1: number, x2: number, n2: number, confidence: number): Bounds {
  const z = zFor(confidence);
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const a = wilson(x1, n1, z);
  const b = wilson(x2, n2, z);
  const d = p1 - p2;
  return {
    lower: d - Math.sqrt((p1 - a.lower) ** 2 + (b.upper - p2) ** 2),
    upper: d + Math.sqrt((a.upper - p1) ** 2 + (p2 - b.lower) ** 2),
  };
}

/**
 * Ranks (1-based) of the order statistics that bound the q-quantile of n samples at
 * `confidence`, distribution free: the number of samples below the true quantile is binomial
 * (n, q). `upper` is Infinity when n is too small for any sample to bound it from above.
 */
export function quantileRanks(n: number, q: number, confidence: number): { lower: number; upper: number } {
  const z = zFor(confidence);
  const sd = Math.sqrt(n * q * (1 - q));
  const lower = Math.floor(n * q - z * sd);
  const upper = Math.ceil(n * q + z * sd) + 1;
  return { lower: Math.max(1, lower), upper: upper > n ? Infinity : upper };
}

/** The most requests asked for in a "needs ~N more" message; beyond it the rule cannot pass at this rate. */
const MAX_NEEDED = 10_000_000;

/**
 * How many more events-free trials make the upper bound of x / n fall below `threshold`
 * (undefined when no number of them would, within MAX_NEEDED).
 */
export function moreNeeded(x: number, n: number, threshold: number, confidence: number, minRequests: number): number | undefined {
  const ok = (m: number) => m >= minRequests && m > 0 && proportionBounds(x, m, confidence).upper < threshold;
  if (ok(n)) return 0;
  let hi = Math.max(n + 1, minRequests, 1);
  while (!ok(hi)) {
    hi *= 2;
    if (hi > MAX_NEEDED) return undefined;
  }
  let lo = n;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi - n;
}
