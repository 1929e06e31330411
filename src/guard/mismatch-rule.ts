// maxMismatchRate: parity judged like the guard's error rate, an exact (Clopper-Pearson) bound on
// mismatched / compared, learned noise already excluded by the comparison. Breach when the lower
// bound is past the threshold, healthy when the upper bound is inside it, else not enough
// evidence, with how many more comparisons (all matching) would make it conclusive. Pure.
import { moreNeeded, proportionBounds } from './bounds.js';
import type { MismatchFigures, Outcome, RuleContext, RuleResult } from './rules.js';

export type { MismatchFigures };

/** The guard's RuleResult, named maxMismatchRate, with the comparisons still needed. */
export type MismatchRuleResult = Omit<RuleResult, 'rule'> & {
  rule: 'maxMismatchRate';
  /** More matching comparisons for a healthy verdict: 0 when conclusive, null when no number would do. */
  needed: number | null;
};

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 3 : 1)} %`;

/** The paths that differed most, for the verdict: ", differing: /total (20), /items/*\/price (3)". */
export function differingWords(differences: Record<string, number> | undefined, n = 3): string {
  const top = Object.entries(differences ?? {})
    .filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);
  return top.length === 0 ? '' : `, differing: ${top.map(([p, c]) => `${p === '' ? '(whole body)' : p} (${c})`).join(', ')}`;
}

/**
 * The comparisons since a baseline (a re-arm, a hold's start): counts minus the baseline's. When
 * the counts went down (the figures were reset, a process restarted) everything now counts.
 */
export function paritySince(now: MismatchFigures, base: MismatchFigures | undefined): MismatchFigures {
  if (!base || now.compared < base.compared || now.mismatched < base.mismatched) return { compared: now.compared, mismatched: now.mismatched, differences: { ...(now.differences ?? {}) } };
  const differences: Record<string, number> = {};
  for (const [p, c] of Object.entries(now.differences ?? {})) {
    const d = c - (base.differences?.[p] ?? 0);
    if (d > 0) differences[p] = d;
  }
  return { compared: now.compared - base.compared, mismatched: now.mismatched - base.mismatched, differences };
}

export function judgeMismatchRate(f: MismatchFigures, limit: number, ctx: RuleContext, windowSeconds = 0): MismatchRuleResult {
  const n = f.compared;
  const x = f.mismatched;
  const base = { rule: 'maxMismatchRate' as const, windowSeconds, n, x, inFlight: 0, threshold: limit, limit, confidence: ctx.confidence };
  if (n < ctx.minRequests || n === 0) {
    const needed = (moreNeeded(x, n, limit, ctx.confidence, ctx.minRequests) ?? null);
    return { ...base, outcome: 'inconclusive', observed: n === 0 ? 0 : x / n, lower: 0, upper: 1, needed,
      message: `${n} comparisons, fewer than minRequests ${ctx.minRequests}${needed === null ? '' : `; needs ~${needed} more without a mismatch`}` };
  }
  const b = proportionBounds(x, n, ctx.confidence);
  const outcome: Outcome = b.lower > limit ? 'breach' : b.upper < limit || (limit === 0 && b.upper === 0) ? 'healthy' : 'inconclusive';
  const needed = outcome === 'inconclusive' ? (moreNeeded(x, n, limit, ctx.confidence, ctx.minRequests) ?? null) : 0;
  const range = outcome === 'inconclusive' ? `${pct(b.lower)}..${pct(b.upper)}` : `${outcome === 'breach' ? 'at least' : 'at most'} ${pct(outcome === 'breach' ? b.lower : b.upper)}`;
  const more = outcome !== 'inconclusive' ? '' : needed === null ? '; at this rate it cannot pass' : `; needs ~${needed} more comparisons without a mismatch`;
  return { ...base, outcome, observed: x / n, lower: b.lower, upper: b.upper, needed,
    message: `mismatch rate ${pct(x / n)} (${x} of ${n} comparisons, noise excluded${differingWords(f.differences)}); at ${pct(ctx.confidence)} confidence ${range}, threshold ${pct(limit)}${more}` };
}
