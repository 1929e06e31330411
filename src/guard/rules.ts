// Each guard rule as a statistical test on one window's figures. A rule breaches when a
// confidence bound puts the candidate past its threshold, is healthy when the other bound puts
// it inside, and is inconclusive in between: never a verdict from a point estimate. Pure.
import { differenceBounds, proportionBounds, quantileRanks } from './bounds.js';

export interface Rules {
  maxErrorRate: number | null;
  maxP99Ms: number | null;
  maxP99Ratio: number | null;
  maxErrorRateDelta: number | null;
  /** Shadowed comparisons that differ (learned noise excluded), judged on parity/ figures. */
  maxMismatchRate: number | null;
}
export type RuleName = keyof Rules;
export const RULE_NAMES: readonly RuleName[] = ['maxErrorRate', 'maxP99Ms', 'maxP99Ratio', 'maxErrorRateDelta', 'maxMismatchRate'];

/** Comparisons of shadowed requests (parity/), as the maxMismatchRate rule judges them. */
export interface MismatchFigures {
  compared: number;
  mismatched: number;
  /** Differing path → mismatches it appeared in (named in the verdict's message). */
  differences?: Record<string, number>;
}

/** A latency distribution (the window's merged HDR histogram), for the relative latency rule. */
export interface LatencyDistribution {
  /** Requests with a latency. */
  readonly count: number;
  /** The value (ms) at a 1-based rank, smallest first. */
  valueAtRank(rank: number): number;
  /** How many latencies are above `ms`. */
  countAbove(ms: number): number;
}

/** The figures of one backend over one window, as the guard judges them. */
export interface Figures {
  /** Requests finished in the window, but for early client aborts (no evidence either way). */
  requests: number;
  /** 5xx responses and transport errors among them. */
  errors: number;
  /** Requests among them that have a latency (responses, timeouts, late aborts). */
  timed: number;
  /** Among those, slower than the route's maxP99Ms. */
  slow: number;
  /** Ages (ms) of the requests still in flight, oldest first (only those old enough to matter). */
  inFlightMs: readonly number[];
  /** The backend's response timeout: a request in flight past it is already a timeout. */
  timeoutMs: number;
  /** Only when a relative latency rule is on (merging histograms costs). */
  latency?: LatencyDistribution;
}

export interface WindowFigures {
  seconds: number;
  candidate: Figures;
  legacy: Figures;
  /** The comparisons counted over the same span; absent when the route does not shadow. */
  parity?: MismatchFigures;
}

export type Outcome = 'breach' | 'healthy' | 'inconclusive' | 'shared-outage';

/** One rule judged on one window: the evidence a verdict carries. */
export interface RuleResult {
  rule: RuleName;
  outcome: Outcome;
  windowSeconds: number;
  /** Requests judged and events counted (errors, or requests slower than the threshold). */
  n: number;
  x: number;
  /** In-flight requests counted among them (hung or timed out already). */
  inFlight: number;
  /** The candidate's observed figure: a rate, a share, a difference or a ratio. */
  observed: number;
  lower: number;
  upper: number;
  /** What the bounds are compared with (a rate, a share or a difference). */
  threshold: number;
  /** The rule's configured value (maxP99Ms in ms, a ratio, a rate). */
  limit: number;
  confidence: number;
  message: string;
}

export interface RuleContext {
  minRequests: number;
  confidence: number;
}

/** p99 above X means more than 1 % of requests slower than X. */
const P99_SHARE = 0.01;

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 3 : 1)} %`;
const countAbove = (ages: readonly number[], ms: number) => {
  let k = 0;
  while (k < ages.length && ages[k] > ms) k++; // oldest first: stop at the first younger one
  return k;
};

function outcomeOf(lower: number, upper: number, threshold: number): Outcome {
  if (lower > threshold) return 'breach';
  if (upper < threshold || (threshold === 0 && upper === 0)) return 'healthy';
  return 'inconclusive';
}

const word = (o: Outcome) => (o === 'breach' ? 'at least' : o === 'healthy' ? 'at most' : 'between');

/** Error rate of one backend, with requests in flight past the timeout counted as failed. */
export function errorCounts(f: Figures): { n: number; x: number; inFlight: number } {
  const late = countAbove(f.inFlightMs, f.timeoutMs);
  return { n: f.requests + late, x: f.errors + late, inFlight: late };
}

/** Requests of one backend slower than `ms`, with those in flight longer counted as slow. */
export function slowCounts(f: Figures, ms: number, slow = f.slow): { n: number; x: number; inFlight: number } {
  const late = countAbove(f.inFlightMs, ms);
  return { n: f.timed + late, x: slow + late, inFlight: late };
}

function tooFew(rule: RuleName, w: number, n: number, ctx: RuleContext, limit: number, threshold: number, who = 'candidate'): RuleResult {
  return {
    rule, outcome: 'inconclusive', windowSeconds: w, n, x: 0, inFlight: 0, observed: 0, lower: 0, upper: 1, threshold, limit,
    confidence: ctx.confidence,
    message: `${w} s window: ${n} ${who} requests, fewer than minRequests ${ctx.minRequests}`,
  };
}

export function judgeErrorRate(w: WindowFigures, limit: number, ctx: RuleContext, backend: 'candidate' | 'legacy' = 'candidate'): RuleResult {
  const { n, x, inFlight } = errorCounts(w[backend]);
  if (n < ctx.minRequests || n === 0) return tooFew('maxErrorRate', w.seconds, n, ctx, limit, limit, backend);
  const b = proportionBounds(x, n, ctx.confidence);
  const outcome = outcomeOf(b.lower, b.upper, limit);
  const bound = outcome === 'healthy' ? b.upper : b.lower;
  const late = inFlight > 0 ? `, ${inFlight} of them timed out in flight` : '';
  return {
    rule: 'maxErrorRate', outcome, windowSeconds: w.seconds, n, x, inFlight, observed: x / n, lower: b.lower, upper: b.upper, threshold: limit, limit,
    confidence: ctx.confidence,
    message: `${backend} error rate ${pct(x / n)} (${x} of ${n} requests over ${w.seconds} s${late}); at ${pct(ctx.confidence)} confidence ${outcome === 'inconclusive' ? `${pct(b.lower)}..${pct(b.upper)}` : `${word(outcome)} ${pct(bound)}`}, threshold ${pct(limit)}`,
  };
}

export function judgeP99(w: WindowFigures, limitMs: number, ctx: RuleContext, backend: 'candidate' | 'legacy' = 'candidate'): RuleResult {
  const { n, x, inFlight } = slowCounts(w[backend], limitMs);
  if (n < ctx.minRequests || n === 0) return tooFew('maxP99Ms', w.seconds, n, ctx, limitMs, P99_SHARE, backend);
  const b = proportionBounds(x, n, ctx.confidence);
  const outcome = outcomeOf(b.lower, b.upper, P99_SHARE);
  const late = inFlight > 0 ? `, ${inFlight} still in flight` : '';
  return {
    rule: 'maxP99Ms', outcome, windowSeconds: w.seconds, n, x, inFlight, observed: x / n, lower: b.lower, upper: b.upper, threshold: P99_SHARE, limit: limitMs,
    confidence: ctx.confidence,
    message: `${backend} p99 vs ${limitMs} ms: ${x} of ${n} requests slower over ${w.seconds} s (${pct(x / n)}${late}); at ${pct(ctx.confidence)} confidence the slower share is ${outcome === 'inconclusive' ? `${pct(b.lower)}..${pct(b.upper)}` : `${word(outcome)} ${pct(outcome === 'healthy' ? b.upper : b.lower)}`}, the p99 allows 1 %`,
  };
}

export function judgeErrorDelta(w: WindowFigures, limit: number, ctx: RuleContext): RuleResult {
  const c = errorCounts(w.candidate);
  const l = errorCounts(w.legacy);
  if (c.n < ctx.minRequests || c.n === 0) return tooFew('maxErrorRateDelta', w.seconds, c.n, ctx, limit, limit);
  if (l.n < ctx.minRequests || l.n === 0) return tooFew('maxErrorRateDelta', w.seconds, l.n, ctx, limit, limit, 'legacy');
  const b = differenceBounds(c.x, c.n, l.x, l.n, ctx.confidence);
  const outcome = outcomeOf(b.lower, b.upper, limit);
  const d = c.x / c.n - l.x / l.n;
  return {
    rule: 'maxErrorRateDelta', outcome, windowSeconds: w.seconds, n: c.n, x: c.x, inFlight: c.inFlight, observed: d, lower: b.lower, upper: b.upper, threshold: limit, limit,
    confidence: ctx.confidence,
    message: `candidate error rate ${pct(c.x / c.n)} (${c.x}/${c.n}) vs legacy ${pct(l.x / l.n)} (${l.x}/${l.n}) over ${w.seconds} s: the difference ${pct(d)} is at ${pct(ctx.confidence)} confidence ${outcome === 'inconclusive' ? `${pct(b.lower)}..${pct(b.upper)}` : `${word(outcome)} ${pct(outcome === 'healthy' ? b.upper : b.lower)}`}, threshold ${pct(limit)}`,
  };
}

/**
 * Candidate p99 against ratio × legacy's p99. Legacy's p99 is itself an estimate, so its bounds
 * (from order statistics) make the threshold: a breach needs more than 1 % of candidate requests
 * slower than ratio × legacy's highest plausible p99; healthy needs fewer than 1 % slower than
 * ratio × its lowest plausible one.
 */
export function judgeP99Ratio(w: WindowFigures, ratio: number, ctx: RuleContext): RuleResult {
  const c = w.candidate;
  const l = w.legacy;
  const lc = l.latency;
  const cc = c.latency;
  if (!lc || !cc) return tooFew('maxP99Ratio', w.seconds, 0, ctx, ratio, P99_SHARE);
  if (lc.count < ctx.minRequests || lc.count === 0) return tooFew('maxP99Ratio', w.seconds, lc.count, ctx, ratio, P99_SHARE, 'legacy');
  const ranks = quantileRanks(lc.count, 0.99, ctx.confidence);
  const hiMs = ranks.upper === Infinity ? Infinity : ratio * lc.valueAtRank(ranks.upper);
  const loMs = ratio * lc.valueAtRank(ranks.lower);
  const hi = hiMs === Infinity ? undefined : slowCounts(c, hiMs, cc.countAbove(hiMs));
  const lo = slowCounts(c, loMs, cc.countAbove(loMs));
  if (lo.n < ctx.minRequests || lo.n === 0) return tooFew('maxP99Ratio', w.seconds, lo.n, ctx, ratio, P99_SHARE);
  const hb = hi ? proportionBounds(hi.x, hi.n, ctx.confidence) : { lower: 0, upper: 1 };
  const lb = proportionBounds(lo.x, lo.n, ctx.confidence);
  const outcome: Outcome = hb.lower > P99_SHARE ? 'breach' : lb.upper < P99_SHARE ? 'healthy' : 'inconclusive';
  const used = outcome === 'breach' ? hi! : lo;
  const lp99 = lc.valueAtRank(Math.ceil(0.99 * lc.count));
  const cp99 = cc.count > 0 ? cc.valueAtRank(Math.ceil(0.99 * cc.count)) : 0;
  const observed = lp99 > 0 ? cp99 / lp99 : 0;
  return {
    rule: 'maxP99Ratio', outcome, windowSeconds: w.seconds, n: used.n, x: used.x, inFlight: used.inFlight, observed, lower: outcome === 'breach' ? hb.lower : lb.lower,
    upper: outcome === 'breach' ? hb.upper : lb.upper, threshold: P99_SHARE, limit: ratio, confidence: ctx.confidence,
    message: `candidate p99 ${cp99.toFixed(1)} ms is ${observed.toFixed(2)} × legacy's ${lp99.toFixed(1)} ms over ${w.seconds} s (limit ${ratio} ×): ${used.x} of ${used.n} candidate requests slower than ${(outcome === 'breach' ? hiMs : loMs).toFixed(1)} ms; ${outcome === 'inconclusive' ? 'not conclusive yet' : `at ${pct(ctx.confidence)} confidence the p99 is ${outcome === 'breach' ? 'above' : 'within'} the limit`}`,
  };
}
