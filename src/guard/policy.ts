// The guard's decision, pure: (window figures of both backends with the requests in flight,
// rules, guard state, now) → verdict with its evidence, and the next guard state. Also which
// windows to judge, and which routes a revert hits. No I/O, no timers, no clock of its own; the
// runner (runner.ts) owns the timer and applies what this returns.
import { judgeMismatchRate, paritySince } from './mismatch-rule.js';
import { judgeErrorDelta, judgeErrorRate, judgeP99, judgeP99Ratio, type MismatchFigures, type RuleName, type RuleResult, type Rules, type WindowFigures } from './rules.js';

export type { Figures, LatencyDistribution, MismatchFigures, RuleName, RuleResult, Rules, WindowFigures } from './rules.js';

export interface RoutePolicy {
  enabled: boolean;
  /** A floor: fewer judged requests in a window and it is not judged at all. */
  minRequests: number;
  consecutive: number;
  dryRun: boolean;
  /** One-sided confidence of every bound (e.g. 0.999). */
  confidence: number;
  /** Whether a breach that legacy shows too (a shared outage) reverts. */
  revertOnSharedOutage: boolean;
  rules: Rules;
}

export type VerdictKind = 'healthy' | 'insufficient-data' | 'breach' | 'shared-outage' | 'idle';

export interface Verdict {
  kind: VerdictKind;
  at: number;
  summary: string;
  /** The rules that breached (shared outages included), with their evidence. */
  breaches: RuleResult[];
  /** Every enabled rule, judged: the breaching window if any, else the most telling one. */
  rules: RuleResult[];
  evidence: { confidence: number; minRequests: number; thresholds: Rules; windows: number[] };
}

export interface RouteGuardState {
  /** Breaching evaluations in a row. */
  streak: number;
  /** When the current run of insufficient data began (ms), or null. */
  insufficientSince: number | null;
  /** Whether the current breach episode was already reported as a detection. */
  detected: boolean;
  /** Whether the current shared-outage episode was already reported. */
  sharedReported: boolean;
  lastVerdict: Verdict | null;
  /** When the verdict kind last changed (ms). */
  lastChange: number;
  /**
   * The route's parity counts at the last re-arm: maxMismatchRate judges only the comparisons
   * since (undefined: all of them).
   */
  parityBase?: MismatchFigures;
}

export type GuardEvent =
  | { type: 'insufficient-data-began'; since: number }
  | { type: 'insufficient-data-ended'; since: number; durationMs: number }
  | { type: 'breach-started'; breaches: RuleResult[] }
  | { type: 'breach-detected'; breaches: RuleResult[]; dryRun: boolean }
  | { type: 'shared-outage'; breaches: RuleResult[] }
  | { type: 'streak-reset'; streak: number }
  | { type: 'recovered' };

export interface Decision {
  verdict: Verdict;
  state: RouteGuardState;
  events: GuardEvent[];
  /** 'revert' when the breach has held for `consecutive` evaluations and this is not a dry run. */
  action: 'none' | 'revert' | 'would-revert';
}

/** Insufficient data for this many evaluations in a row ends a breach streak: evaluations stopped. */
export const STREAK_STALE_EVALUATIONS = 3;

/** A fresh judgement (start, re-arm); `parity`: the route's comparison counts now, the baseline of maxMismatchRate. */
export function initialGuardState(now: number, parity?: MismatchFigures): RouteGuardState {
  const s: RouteGuardState = { streak: 0, insufficientSince: null, detected: false, sharedReported: false, lastVerdict: null, lastChange: now };
  if (parity) s.parityBase = paritySince(parity, undefined);
  return s;
}

/**
 * The windows to judge, longest first: the configured window and a shorter recent one (so that a
 * sudden failure shows before long healthy history dilutes it). After a re-arm the series leave
 * out the requests that started before it (Series.rearm), so the windows stay as configured.
 */
export function windowsToJudge(windowSeconds: number, fastWindowSeconds: number | null): number[] {
  return fastWindowSeconds !== null && fastWindowSeconds < windowSeconds ? [windowSeconds, fastWindowSeconds] : [windowSeconds];
}

/**
 * Which routes a revert hits. Scope `route`: the breaching ones. Scope `all`: every route whose
 * own guard is enabled, not a dry run and not already latched (a route whose guard is off or in
 * dry run has said it does not want the guard to move it).
 */
export function revertTargets(
  scope: 'all' | 'route',
  breaching: readonly string[],
  routes: ReadonlyArray<{ name: string; policy: RoutePolicy; latched: boolean }>,
): string[] {
  if (scope === 'route') return [...breaching];
  return routes.filter((r) => !r.latched && r.policy.enabled && !r.policy.dryRun).map((r) => r.name);
}

/**
 * Judge one rule over every window: the first breaching window wins, else a healthy one, else the
 * longest. Also what the ramp applies to the figures of a whole hold (one window).
 */
export function judgeRule(rule: RuleName, limit: number, windows: readonly WindowFigures[], p: RoutePolicy): RuleResult {
  const ctx = { minRequests: p.minRequests, confidence: p.confidence };
  let healthy: RuleResult | undefined;
  let first: RuleResult | undefined;
  for (const w of windows) {
    let r: RuleResult;
    switch (rule) {
      case 'maxErrorRate':
        r = judgeErrorRate(w, limit, ctx);
        break;
      case 'maxP99Ms':
        r = judgeP99(w, limit, ctx);
        break;
      case 'maxErrorRateDelta':
        r = judgeErrorDelta(w, limit, ctx);
        break;
      case 'maxP99Ratio':
        r = judgeP99Ratio(w, limit, ctx);
        break;
      case 'maxMismatchRate':
        r = judgeMismatchRate(w.parity ?? { compared: 0, mismatched: 0 }, limit, ctx, w.seconds);
        break;
    }
    if (r.outcome === 'breach') {
      // An absolute rule that legacy breaks too, in the same window, is a shared outage (the
      // network, a common database), not the candidate's fault.
      if (rule === 'maxErrorRate' || rule === 'maxP99Ms') {
        const l = rule === 'maxErrorRate' ? judgeErrorRate(w, limit, ctx, 'legacy') : judgeP99(w, limit, ctx, 'legacy');
        if (l.outcome === 'breach') return { ...r, outcome: 'shared-outage', message: `${r.message}; legacy too: ${l.message}` };
      }
      return r;
    }
    if (r.outcome === 'healthy') healthy ??= r;
    first ??= r;
  }
  return healthy ?? first!;
}

export interface EvaluateInput {
  windows: WindowFigures[];
  policy: RoutePolicy;
  state: RouteGuardState;
  candidatePercent: number;
  now: number;
  /** The evaluation interval (ms): a breach streak ends after a few intervals without a verdict. */
  intervalMs: number;
  /**
   * The route's comparison counts as read now (cumulative; merged in a fleet), or undefined when
   * the route does not shadow (maxMismatchRate is then not judged). Only those since the state's
   * parityBase (the last re-arm) count.
   */
  parity?: MismatchFigures;
}

/** One evaluation of a route: judge every rule, classify into a verdict, advance the guard state. */
export function evaluate(input: EvaluateInput): Decision {
  const parity = input.parity && paritySince(input.parity, input.state.parityBase);
  const judged = judge(input.windows, input.policy, input.candidatePercent, parity);
  const verdict = classify(judged, input);
  return advance(verdict, input);
}

/**
 * Every enabled rule judged over the windows (none at 0 %: there is nothing to judge, and the
 * runner reads no windows). maxMismatchRate is judged on `parity` (the comparisons since the
 * re-arm, not a window), and only when the route shadows.
 */
export function judge(windows: readonly WindowFigures[], policy: RoutePolicy, candidatePercent: number, parity?: MismatchFigures): RuleResult[] {
  if (candidatePercent <= 0 || windows.length === 0) return [];
  const judged: RuleResult[] = [];
  for (const name of ['maxErrorRate', 'maxP99Ms', 'maxErrorRateDelta', 'maxP99Ratio'] as const) {
    const limit = policy.rules[name];
    if (limit !== null) judged.push(judgeRule(name, limit, windows, policy));
  }
  const mismatch = policy.rules.maxMismatchRate ?? null; // ?? null: policies built before the rule existed
  if (mismatch !== null && parity) judged.push(judgeMismatchRate(parity, mismatch, { minRequests: policy.minRequests, confidence: policy.confidence }));
  return judged;
}

/** The verdict of the judged rules: idle, breach, shared outage, healthy or not enough evidence, with its evidence. */
export function classify(judged: RuleResult[], input: Pick<EvaluateInput, 'windows' | 'policy' | 'candidatePercent' | 'now'>): Verdict {
  const { policy } = input;
  const breaching = judged.filter((r) => r.outcome === 'breach' || (r.outcome === 'shared-outage' && policy.revertOnSharedOutage));
  const shared = judged.filter((r) => r.outcome === 'shared-outage');
  let kind: VerdictKind;
  let summary: string;
  // At 0 % there is nothing to revert: the guard does not judge.
  if (input.candidatePercent <= 0) {
    kind = 'idle';
    summary = 'candidate at 0 %: nothing to judge';
  } else if (breaching.length > 0) {
    kind = 'breach';
    summary = breaching.map((b) => b.message).join('; ');
  } else if (shared.length > 0) {
    kind = 'shared-outage';
    summary = `shared outage, not reverted (guard.revertOnSharedOutage is false): ${shared.map((b) => b.message).join('; ')}`;
  } else if (judged.every((r) => r.outcome === 'healthy')) {
    kind = 'healthy';
    summary = judged.length === 0 ? 'no rule enabled' : judged.map((r) => r.message).join('; ');
  } else {
    kind = 'insufficient-data';
    summary = `not enough evidence: ${judged.filter((r) => r.outcome !== 'healthy').map((r) => r.message).join('; ')}`;
  }
  return {
    kind,
    at: input.now,
    summary,
    breaches: kind === 'breach' ? breaching : kind === 'shared-outage' ? shared : [],
    rules: judged,
    evidence: { confidence: policy.confidence, minRequests: policy.minRequests, thresholds: policy.rules, windows: input.windows.map((w) => w.seconds) },
  };
}

/** The next guard state after a verdict, the events it makes, and whether to revert. */
export function advance(verdict: Verdict, input: Pick<EvaluateInput, 'policy' | 'state' | 'now' | 'intervalMs'>): Decision {
  const { policy, state, now } = input;
  const kind = verdict.kind;
  const events: GuardEvent[] = [];
  const next: RouteGuardState = { ...state, lastVerdict: verdict };
  if (state.lastVerdict?.kind !== kind) next.lastChange = now;
  // Insufficient data is neither a pass nor a failure: it leaves the breach streak as it was,
  // unless it lasts long enough that the evaluations have really stopped.
  if (kind === 'insufficient-data') {
    const since = state.insufficientSince ?? now;
    if (state.insufficientSince === null) {
      next.insufficientSince = now;
      events.push({ type: 'insufficient-data-began', since: now });
    }
    if (state.streak > 0 && now - since >= STREAK_STALE_EVALUATIONS * input.intervalMs) {
      events.push({ type: 'streak-reset', streak: state.streak });
      next.streak = 0;
      next.detected = false;
    }
  } else if (state.insufficientSince !== null) {
    next.insufficientSince = null;
    events.push({ type: 'insufficient-data-ended', since: state.insufficientSince, durationMs: now - state.insufficientSince });
  }
  if (kind === 'shared-outage' && !state.sharedReported) events.push({ type: 'shared-outage', breaches: verdict.breaches });
  next.sharedReported = kind === 'shared-outage';
  let action: Decision['action'] = 'none';
  if (kind === 'breach') {
    next.streak = state.streak + 1;
    if (state.streak === 0) events.push({ type: 'breach-started', breaches: verdict.breaches });
    if (next.streak >= policy.consecutive && !state.detected) {
      next.detected = true;
      events.push({ type: 'breach-detected', breaches: verdict.breaches, dryRun: policy.dryRun });
      action = policy.dryRun ? 'would-revert' : 'revert';
    }
  } else if (kind === 'healthy' || kind === 'idle') {
    if (state.streak > 0 || state.detected) events.push({ type: 'recovered' });
    next.streak = 0;
    next.detected = false;
  }
  return { verdict, state: next, events, action };
}
