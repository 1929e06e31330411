// The migration scorecard, pure: from snapshots of both backends (one process's, or merged from
// several) to legacy vs candidate side by side, the candidate/legacy ratio of each figure with a
// confidence interval where it is a statistic, a verdict per line, the configured success
// criteria judged, and an overall verdict. Renderers (render-*.ts) only format what this returns.
import type { CriterionResult } from './criterion.js';
import type { ReportConfig } from '../config/schema.js';
import { differenceBounds, proportionBounds } from '../guard/bounds.js';
import type { ParitySource } from '../parity/source.js';
import type { Snapshot } from '../stats/snapshot.js';
import { paritySection, type ParitySection } from './parity.js';
import { distribution, histogramOf, mean, quantile, ratioOf, type Bucket, type Estimate } from './latency.js';

export type LineVerdict = 'better' | 'same' | 'worse' | 'not enough data' | 'n/a';
export type Verdict = 'better' | 'same' | 'worse' | 'not enough data';
/** The headline: does the candidate meet the configured criteria (report.criteria)? */
export type Answer = 'met' | 'missed' | 'not enough data yet' | 'no criteria';

/** A ratio inside [1/1.1, 1.1] (latency), or a difference within ±0.5 points (error rates), is "the same". */
export const SAME_RATIO = 1.1;
export const SAME_RATE = 0.005;

export interface BackendFigures {
  requests: number;
  /** Requests per second over the section's span. */
  throughput: number;
  errorRate: number;
  status: Snapshot['status'];
  transport: { refused: number; reset: number; timeout: number; other: number };
  latencyMs: Snapshot['latencyMs'];
}

export interface Line {
  metric: string;
  unit: 'requests' | 'req/s' | 'rate' | 'ms';
  legacy: number;
  candidate: number;
  /** candidate / legacy (null when legacy is 0). */
  ratio: number | null;
  /** The interval of the statistic: a ratio for latencies, candidate − legacy for rates; null when it is not a statistic. */
  interval: { of: 'ratio' | 'difference'; lower: number; upper: number | null } | null;
  verdict: LineVerdict;
  /** Throughput: each side's share of the route's requests (its ratio would measure the split, not the candidate). */
  share?: { legacy: number; candidate: number };
}

export interface Section {
  seconds: number;
  legacy: BackendFigures;
  candidate: BackendFigures;
  lines: Line[];
  verdict: Verdict;
}

export type { CriterionResult } from './criterion.js';

export interface RouteReport {
  name: string;
  candidatePercent: number;
  window: Section;
  sinceStart: Section;
  criteria: CriterionResult[];
  /** Compared with legacy, line by line (worse when any line is statistically worse or a criterion is missed). */
  verdict: Verdict;
  /** Does the candidate meet the criteria? Decided by the criteria alone. */
  answer: Answer;
  /** The criteria that decided the answer, in words (all of them when met). */
  deciding: string[];
  /** Latency distributions since start, log-spaced buckets. */
  distribution: Bucket[];
  /** Both backends' latency at each percentile since start (the HTML ladder, log axis). */
  ladder: Rung[];
  /** What the shadow's comparisons found since start (absent: the route does not shadow). */
  parity?: ParitySection;
}

export interface Rung {
  /** The percentile, e.g. 99.9. */
  percentile: number;
  legacy: number | null;
  candidate: number | null;
}

export interface Report {
  generatedAt: string;
  confidence: number;
  criteria: ReportConfig['criteria'];
  verdict: Verdict;
  /** Over every route: missed when one misses, not enough data yet when one cannot tell, else met. */
  answer: Answer;
  routes: RouteReport[];
}

export interface RouteInput {
  name: string;
  candidatePercent: number;
  legacy: { window: Snapshot; cumulative: Snapshot };
  candidate: { window: Snapshot; cumulative: Snapshot };
}

/** `parity`: each route's shadow comparisons (a route it has none for gets no parity section). */
export function buildReport(input: { generatedAt: string; windowSeconds: number; sinceStartSeconds: number; config: ReportConfig; routes: RouteInput[]; parity?: ParitySource }): Report {
  const { confidence, criteria } = input.config;
  const routes = input.routes.map((r): RouteReport => {
    const window = section(r.legacy.window, r.candidate.window, input.windowSeconds, confidence);
    const sinceStart = section(r.legacy.cumulative, r.candidate.cumulative, input.sinceStartSeconds, confidence);
    const judged = judgeCriteria(r.legacy.cumulative, r.candidate.cumulative, criteria, confidence);
    const evidence = input.parity?.(r.name);
    const parity = evidence && paritySection(evidence, criteria.maxMismatchRate, confidence);
    if (parity?.criterion) judged.push(parity.criterion);
    let verdict = sinceStart.verdict;
    if (judged.some((c) => c.outcome === 'missed')) verdict = 'worse';
    else if (verdict !== 'worse' && judged.some((c) => c.outcome === 'not enough data')) verdict = 'not enough data';
    const lh = histogramOf(r.legacy.cumulative);
    const ch = histogramOf(r.candidate.cumulative);
    const { answer, deciding } = answerOf(judged);
    const out: RouteReport = { name: r.name, candidatePercent: r.candidatePercent, window, sinceStart, criteria: judged, verdict, answer, deciding, distribution: distribution(lh, ch), ladder: ladder(lh, ch) };
    if (parity) out.parity = parity.section;
    return out;
  });
  return { generatedAt: input.generatedAt, confidence, criteria, verdict: overall(routes.map((r) => r.verdict)), answer: overallAnswer(routes.map((r) => r.answer)), routes };
}

/** The criteria decide the headline: a missed one decides alone, then one without enough data. */
function answerOf(judged: CriterionResult[]): { answer: Answer; deciding: string[] } {
  if (judged.length === 0) return { answer: 'no criteria', deciding: [] };
  for (const [outcome, answer] of [['missed', 'missed'], ['not enough data', 'not enough data yet']] as const) {
    const which = judged.filter((c) => c.outcome === outcome);
    if (which.length > 0) return { answer, deciding: which.map(criterionWords) };
  }
  return { answer: 'met', deciding: judged.map(criterionWords) };
}

function overallAnswer(as: Answer[]): Answer {
  for (const a of ['missed', 'not enough data yet', 'met'] as const) if (as.includes(a)) return a;
  return 'no criteria';
}

/** "maxErrorRate: 0.56 % (0.31 %..0.93 %), limit 2.00 %: met" */
export function criterionWords(c: CriterionResult): string {
  const rate = RATE_CRITERIA.has(c.criterion);
  const f = (x: number | null) => (x === null ? '∞' : rate ? `${(100 * x).toFixed(2)} %` : `${x.toFixed(2)}×`);
  if (c.observed === null) return `${c.criterion}: no data yet, limit ${f(c.limit)}`;
  const interval = c.interval ? ` (${f(c.interval.lower)}..${f(c.interval.upper)})` : '';
  return `${c.criterion}: ${f(c.observed)}${interval}, limit ${f(c.limit)}: ${c.outcome}`;
}

/** Criteria that are rates (shown as percentages), the others ratios. */
export const RATE_CRITERIA: ReadonlySet<string> = new Set(['maxErrorRate', 'maxErrorRateDelta', 'maxMismatchRate']);

const LADDER = [50, 75, 90, 95, 99, 99.9, 99.99];

function ladder(l: ReturnType<typeof histogramOf>, c: ReturnType<typeof histogramOf>): Rung[] {
  const at = (h: ReturnType<typeof histogramOf>, p: number) => (h.totalCount === 0 ? null : h.getValueAtPercentile(p) / 1000);
  return LADDER.map((p) => ({ percentile: p, legacy: at(l, p), candidate: at(c, p) }));
}

function overall(vs: Verdict[]): Verdict {
  if (vs.length === 0) return 'not enough data';
  for (const v of ['worse', 'not enough data', 'better'] as const) if (vs.includes(v)) return v;
  return 'same';
}

const judgedOf = (s: Snapshot) => s.requests - (s.unjudged ?? 0);

function figures(s: Snapshot, seconds: number): BackendFigures {
  const { status5xx: _, ...transport } = s.errors;
  return { requests: s.requests, throughput: seconds > 0 ? s.requests / seconds : 0, errorRate: s.errorRate, status: s.status, transport, latencyMs: s.latencyMs };
}

function section(l: Snapshot, c: Snapshot, seconds: number, confidence: number): Section {
  const lines: Line[] = [];
  const ratio = (cv: number, lv: number) => (lv > 0 ? cv / lv : null);
  lines.push({ metric: 'requests', unit: 'requests', legacy: l.requests, candidate: c.requests, ratio: ratio(c.requests, l.requests), interval: null, verdict: 'n/a' });
  const lt = seconds > 0 ? l.requests / seconds : 0;
  const ct = seconds > 0 ? c.requests / seconds : 0;
  const all = l.requests + c.requests;
  const share = { legacy: all > 0 ? l.requests / all : 0, candidate: all > 0 ? c.requests / all : 0 };
  lines.push({ metric: 'throughput', unit: 'req/s', legacy: lt, candidate: ct, ratio: null, interval: null, verdict: 'n/a', share });
  const ln = judgedOf(l);
  const cn = judgedOf(c);
  const rates: Array<[string, (s: Snapshot) => number]> = [
    ['error rate', (s) => s.errors.status5xx + s.errors.refused + s.errors.reset + s.errors.timeout + s.errors.other],
    ['4xx rate', (s) => s.status['4xx']],
    ['5xx rate', (s) => s.status['5xx']],
    ['refused rate', (s) => s.errors.refused],
    ['reset rate', (s) => s.errors.reset],
    ['timeout rate', (s) => s.errors.timeout],
    ['other transport error rate', (s) => s.errors.other],
  ];
  for (const [metric, count] of rates) lines.push(rateLine(metric, count(l), ln, count(c), cn, confidence));
  const lh = histogramOf(l);
  const ch = histogramOf(c);
  lines.push(latencyLine('mean', mean(lh, confidence), mean(ch, confidence)));
  for (const [metric, q] of [['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99], ['p99.9', 0.999]] as const) {
    lines.push(latencyLine(metric, quantile(lh, q, confidence), quantile(ch, q, confidence)));
  }
  lines.push({ metric: 'max', unit: 'ms', legacy: l.latencyMs.max, candidate: c.latencyMs.max, ratio: ratio(c.latencyMs.max, l.latencyMs.max), interval: null, verdict: 'n/a' });
  return { seconds, legacy: figures(l, seconds), candidate: figures(c, seconds), lines, verdict: sectionVerdict(lines) };
}

function sectionVerdict(lines: Line[]): Verdict {
  const judged = lines.filter((l) => l.verdict !== 'n/a');
  if (judged.some((l) => l.verdict === 'worse')) return 'worse';
  if (judged.every((l) => l.verdict === 'not enough data')) return 'not enough data';
  return judged.some((l) => l.verdict === 'better') ? 'better' : 'same';
}

/** A rate compared as candidate − legacy, with Newcombe's interval for the difference. */
function rateLine(metric: string, lx: number, ln: number, cx: number, cn: number, confidence: number): Line {
  const lr = ln > 0 ? lx / ln : 0;
  const cr = cn > 0 ? cx / cn : 0;
  if (ln === 0 || cn === 0) return { metric, unit: 'rate', legacy: lr, candidate: cr, ratio: null, interval: null, verdict: 'not enough data' };
  const b = differenceBounds(cx, cn, lx, ln, confidence);
  const verdict: LineVerdict =
    b.lower >= -SAME_RATE && b.upper <= SAME_RATE ? 'same' : b.upper < 0 ? 'better' : b.lower > 0 ? 'worse' : 'not enough data';
  return { metric, unit: 'rate', legacy: lr, candidate: cr, ratio: lr > 0 ? cr / lr : null, interval: { of: 'difference', lower: b.lower, upper: b.upper }, verdict };
}

/** A latency compared as candidate / legacy, bounded by both estimates' bounds (lower is better). */
function latencyLine(metric: string, l: Estimate | null, c: Estimate | null): Line {
  const r = ratioOf(c, l);
  const base = { metric, unit: 'ms' as const, legacy: l?.value ?? 0, candidate: c?.value ?? 0 };
  if (!r) return { ...base, ratio: null, interval: null, verdict: 'not enough data' };
  const upper = r.upper ?? Infinity;
  const verdict: LineVerdict = r.lower >= 1 / SAME_RATIO && upper <= SAME_RATIO ? 'same' : upper < 1 ? 'better' : r.lower > 1 ? 'worse' : 'not enough data';
  return { ...base, ratio: r.value, interval: { of: 'ratio', lower: r.lower, upper: r.upper }, verdict };
}

const RATIO_CRITERIA = [
  ['meanRatio', 'mean', 0],
  ['p50Ratio', 'quantile', 0.5],
  ['p90Ratio', 'quantile', 0.9],
  ['p95Ratio', 'quantile', 0.95],
  ['p99Ratio', 'quantile', 0.99],
  ['p999Ratio', 'quantile', 0.999],
] as const;

/** Each configured criterion: met when its bound says so, missed when the other bound says not. */
function judgeCriteria(l: Snapshot, c: Snapshot, criteria: ReportConfig['criteria'], confidence: number): CriterionResult[] {
  const out: CriterionResult[] = [];
  const lh = histogramOf(l);
  const ch = histogramOf(c);
  const outcome = (lower: number, upper: number | null, limit: number): CriterionResult['outcome'] =>
    upper !== null && upper <= limit ? 'met' : lower > limit ? 'missed' : 'not enough data';
  for (const [name, kind, q] of RATIO_CRITERIA) {
    const limit = criteria[name];
    if (limit === undefined) continue;
    const r = kind === 'mean' ? ratioOf(mean(ch, confidence), mean(lh, confidence)) : ratioOf(quantile(ch, q, confidence), quantile(lh, q, confidence));
    out.push(r ? { criterion: name, limit, observed: r.value, interval: { lower: r.lower, upper: r.upper }, outcome: outcome(r.lower, r.upper, limit) } : { criterion: name, limit, observed: null, interval: null, outcome: 'not enough data' });
  }
  const cx = c.errors.status5xx + c.errors.refused + c.errors.reset + c.errors.timeout + c.errors.other;
  const cn = judgedOf(c);
  if (criteria.maxErrorRate !== undefined) {
    const limit = criteria.maxErrorRate;
    if (cn === 0) out.push({ criterion: 'maxErrorRate', limit, observed: null, interval: null, outcome: 'not enough data' });
    else {
      const b = proportionBounds(cx, cn, confidence);
      out.push({ criterion: 'maxErrorRate', limit, observed: cx / cn, interval: b, outcome: outcome(b.lower, b.upper, limit) });
    }
  }
  if (criteria.maxErrorRateDelta !== undefined) {
    const limit = criteria.maxErrorRateDelta;
    const lx = l.errors.status5xx + l.errors.refused + l.errors.reset + l.errors.timeout + l.errors.other;
    const ln = judgedOf(l);
    if (cn === 0 || ln === 0) out.push({ criterion: 'maxErrorRateDelta', limit, observed: null, interval: null, outcome: 'not enough data' });
    else {
      const b = differenceBounds(cx, cn, lx, ln, confidence);
      out.push({ criterion: 'maxErrorRateDelta', limit, observed: cx / cn - lx / ln, interval: b, outcome: outcome(b.lower, b.upper, limit) });
    }
  }
  return out;
}
