// The evidence of a hold: the figures of both backends since the step began (cumulative totals
// now minus the totals at the step's start), judged by the guard's own rule tests, with how much
// evidence each rule still lacks. The guard's 30 s / 5 s windows may never become conclusive at
// low traffic; a whole hold can. Pure.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { moreNeeded } from '../guard/bounds.js';
import type { MismatchFigures } from '../guard/mismatch-rule.js';
import { countAbove, distributionOf } from '../guard/figures.js';
import { judgeRule, type RoutePolicy } from '../guard/policy.js';
import { RULE_NAMES, type Figures, type RuleResult, type WindowFigures } from '../guard/rules.js';
import { Counters, newHistogram, type SeriesView } from '../stats/series.js';
import type { Snapshot } from '../stats/snapshot.js';
import type { HoldRule } from './policy.js';

/** Totals of one backend at one moment (a copy: the series keeps counting). */
export interface Totals {
  counters: Counters;
  histogram: Histogram;
}

export function totalsOf(view: SeriesView): Totals {
  const counters = new Counters();
  counters.add(view.counters);
  const histogram = newHistogram();
  histogram.add(view.histogram);
  return { counters, histogram };
}

/** Totals of several sources added up (exact: counters add, histograms merge). */
export function sumTotals(all: readonly Totals[]): Totals {
  const counters = new Counters();
  const histogram = newHistogram();
  for (const t of all) {
    counters.add(t.counters);
    if (t.histogram.totalCount > 0) histogram.add(t.histogram);
  }
  return { counters, histogram };
}

/** A cumulative snapshot (from another process) as totals. */
export function totalsOfSnapshot(s: Snapshot): Totals {
  const c = new Counters();
  c.requests = s.requests;
  c.status = [s.status['1xx'], s.status['2xx'], s.status['3xx'], s.status['4xx'], s.status['5xx']];
  c.refused = s.errors.refused;
  c.reset = s.errors.reset;
  c.timeout = s.errors.timeout;
  c.other = s.errors.other;
  c.clientAborts = s.clientAborts;
  c.unjudged = s.unjudged ?? 0;
  c.slow = s.slow ?? 0;
  c.gatewayAnswers = s.gatewayAnswers ?? 0;
  const histogram = newHistogram();
  if (s.histogram) histogram.add(hdr.decodeFromCompressedBase64(s.histogram, 32, false));
  return { counters: c, histogram };
}

/** What was recorded between `base` and `now` (base undefined: everything in `now`). */
export function since(now: Totals, base: Totals | undefined): Totals {
  if (!base) return now;
  const counters = new Counters();
  counters.add(now.counters);
  counters.subtract(base.counters);
  const histogram = newHistogram();
  histogram.add(now.histogram);
  if (base.histogram.totalCount > 0) histogram.subtract(base.histogram);
  return { counters, histogram };
}


/**
 * One backend's figures over the hold. Slow requests are counted from the histogram against the
 * rule's threshold (not the series' own slow counter, which only exists while the guard judges).
 */
export function holdFigures(t: Totals, slowMs: number | null, inFlightMs: number[], timeoutMs: number): Figures {
  const c = t.counters;
  const h = t.histogram;
  return {
    requests: c.requests - c.unjudged,
    errors: c.status[4] + c.refused + c.reset + c.timeout + c.other,
    timed: h.totalCount,
    slow: slowMs === null ? 0 : countAbove(h, slowMs * 1000),
    inFlightMs,
    timeoutMs,
    latency: distributionOf(h),
  };
}

/** The enabled rules judged over the hold, each with what it still lacks. */
export function judgeHold(hold: WindowFigures, policy: RoutePolicy): HoldRule[] {
  const out: HoldRule[] = [];
  for (const name of RULE_NAMES) {
    const limit = policy.rules[name] ?? null;
    // Parity is evidence only where the route shadows: without comparisons the rule has nothing to wait for.
    if (limit === null || (name === 'maxMismatchRate' && !hold.parity)) continue;
    const result = judgeRule(name, limit, [hold], policy);
    out.push({ result, missing: result.outcome === 'healthy' ? undefined : missingOf(result, hold, policy) });
  }
  return out;
}

function missingOf(r: RuleResult, hold: WindowFigures, p: RoutePolicy): string {
  if (r.outcome === 'shared-outage') return `${r.rule}: legacy fails too (a shared outage); neither a pass nor a failure`;
  switch (r.rule) {
    case 'maxErrorRate':
    case 'maxP99Ms': {
      const threshold = r.rule === 'maxErrorRate' ? r.limit : 0.01;
      const what = r.rule === 'maxErrorRate' ? 'without an error' : `none slower than ${r.limit} ms`;
      const more = moreNeeded(r.n === 0 ? 0 : r.x, r.n, threshold, p.confidence, p.minRequests);
      return more === undefined
        ? `${r.rule}: ${r.x} of ${r.n} candidate requests count against it; at this rate it cannot pass`
        : `${r.rule}: needs ~${more} more candidate requests ${what} (${r.x} of ${r.n} so far)`;
    }
    case 'maxErrorRateDelta':
      return `${r.rule}: needs more requests on both backends (candidate ${hold.candidate.requests}, legacy ${hold.legacy.requests} so far): ${r.message}`;
    case 'maxP99Ratio':
      return `${r.rule}: needs more requests (candidate ${hold.candidate.timed}, legacy ${hold.legacy.timed} with a latency so far): ${r.message}`;
    case 'maxMismatchRate': {
      const more = moreNeeded(r.x, r.n, r.limit, p.confidence, p.minRequests);
      return more === undefined
        ? `${r.rule}: ${r.x} of ${r.n} comparisons differ; at this rate it cannot pass`
        : `${r.rule}: needs ~${more} more comparisons without a mismatch (${r.x} of ${r.n} differ so far)`;
    }
  }
}

/** The comparisons of every source over the hold, added up (differing paths included). */
export function sumParity(all: readonly MismatchFigures[]): MismatchFigures {
  const out: MismatchFigures = { compared: 0, mismatched: 0, differences: {} };
  for (const p of all) {
    out.compared += p.compared;
    out.mismatched += p.mismatched;
    for (const [path, n] of Object.entries(p.differences ?? {})) out.differences![path] = (out.differences![path] ?? 0) + n;
  }
  return out;
}
