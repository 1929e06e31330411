// The guard's decision, pure: (window snapshots of both backends, rules, guard state, now) →
// verdict with reasons and evidence, and the next guard state. No I/O, no timers, no clock of
// its own; the runner (runner.ts) owns the timer and applies what this returns.
import type { Snapshot } from '../stats/snapshot.js';

export interface Rules {
  maxErrorRate: number | null;
  maxP99Ms: number | null;
  maxP99Ratio: number | null;
  maxErrorRateDelta: number | null;
}
export type RuleName = keyof Rules;

export interface RoutePolicy {
  enabled: boolean;
  minRequests: number;
  consecutive: number;
  dryRun: boolean;
  rules: Rules;
}

/** The figures of one window, as the guard sees them. */
export interface WindowFigures {
  seconds: number;
  candidate: Figures;
  legacy: Figures;
}
export interface Figures {
  requests: number;
  errorRate: number;
  p99Ms: number;
}

export interface Breach {
  rule: RuleName;
  observed: number;
  threshold: number;
  windowSeconds: number;
  message: string;
}

export type VerdictKind = 'healthy' | 'insufficient-data' | 'breach' | 'idle';

export interface Verdict {
  kind: VerdictKind;
  at: number;
  summary: string;
  breaches: Breach[];
  /** Rules not judged this time and why (e.g. a relative rule without enough legacy requests). */
  skipped: string[];
  evidence: { windows: WindowFigures[]; thresholds: Rules; minRequests: number };
}

export interface RouteGuardState {
  /** Breaching evaluations in a row. */
  streak: number;
  /** When the current run of insufficient data began (ms), or null. */
  insufficientSince: number | null;
  /** Whether the current breach episode was already reported as a detection. */
  detected: boolean;
  lastVerdict: Verdict | null;
  /** When the verdict kind last changed (ms). */
  lastChange: number;
}

export type GuardEvent =
  | { type: 'insufficient-data-began'; since: number }
  | { type: 'insufficient-data-ended'; since: number; durationMs: number }
  | { type: 'breach-started'; breaches: Breach[] }
  | { type: 'breach-detected'; breaches: Breach[]; dryRun: boolean }
  | { type: 'recovered' };

export interface Decision {
  verdict: Verdict;
  state: RouteGuardState;
  events: GuardEvent[];
  /** 'revert' when the breach has held for `consecutive` evaluations and this is not a dry run. */
  action: 'none' | 'revert' | 'would-revert';
}

export function initialGuardState(now: number): RouteGuardState {
  return { streak: 0, insufficientSince: null, detected: false, lastVerdict: null, lastChange: now };
}

export function figures(s: Snapshot): Figures {
  return { requests: s.requests, errorRate: s.errorRate, p99Ms: s.latencyMs.p99 };
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/**
 * Judge one route. `windows` is the configured window first, then any shorter recent window
 * (which lets a sudden failure show before thirty seconds of healthy history dilute it). A rule
 * breaches when it breaches in any window that has enough requests.
 */
export function evaluate(input: {
  windows: WindowFigures[];
  policy: RoutePolicy;
  state: RouteGuardState;
  candidatePercent: number;
  now: number;
}): Decision {
  const { windows, policy, state, now } = input;
  const rules = policy.rules;
  const evidence = { windows, thresholds: rules, minRequests: policy.minRequests };
  const skipped: string[] = [];
  const breaches: Breach[] = [];
  let judged = 0;

  for (const w of windows) {
    const c = w.candidate;
    const l = w.legacy;
    if (c.requests < policy.minRequests) {
      skipped.push(`${w.seconds} s window: ${c.requests} candidate requests < minRequests ${policy.minRequests}`);
      continue;
    }
    judged++;
    const add = (rule: RuleName, observed: number, threshold: number, message: string) => {
      if (!breaches.some((b) => b.rule === rule)) breaches.push({ rule, observed, threshold, windowSeconds: w.seconds, message });
    };
    if (rules.maxErrorRate !== null && c.errorRate > rules.maxErrorRate) {
      add('maxErrorRate', c.errorRate, rules.maxErrorRate, `candidate error rate ${pct(c.errorRate)} > ${pct(rules.maxErrorRate)} over ${w.seconds} s (${c.requests} requests)`);
    }
    if (rules.maxP99Ms !== null && c.p99Ms > rules.maxP99Ms) {
      add('maxP99Ms', c.p99Ms, rules.maxP99Ms, `candidate p99 ${c.p99Ms.toFixed(1)} ms > ${rules.maxP99Ms} ms over ${w.seconds} s`);
    }
    const relative = rules.maxP99Ratio !== null || rules.maxErrorRateDelta !== null;
    if (relative && l.requests < policy.minRequests) {
      skipped.push(`${w.seconds} s window: relative rules need ${policy.minRequests} legacy requests, got ${l.requests}`);
      continue;
    }
    if (rules.maxP99Ratio !== null && l.p99Ms > 0 && c.p99Ms > rules.maxP99Ratio * l.p99Ms) {
      const ratio = c.p99Ms / l.p99Ms;
      add('maxP99Ratio', ratio, rules.maxP99Ratio, `candidate p99 ${c.p99Ms.toFixed(1)} ms is ${ratio.toFixed(2)} × legacy's ${l.p99Ms.toFixed(1)} ms > ${rules.maxP99Ratio} × over ${w.seconds} s`);
    }
    if (rules.maxErrorRateDelta !== null && c.errorRate - l.errorRate > rules.maxErrorRateDelta) {
      const delta = c.errorRate - l.errorRate;
      add('maxErrorRateDelta', delta, rules.maxErrorRateDelta, `candidate error rate ${pct(c.errorRate)} exceeds legacy's ${pct(l.errorRate)} by ${pct(delta)} > ${pct(rules.maxErrorRateDelta)} over ${w.seconds} s`);
    }
  }

  let kind: VerdictKind;
  let summary: string;
  // At 0 % there is nothing to revert: the guard does not judge (testers may still force requests
  // to the candidate with the override header; those are theirs to judge).
  if (input.candidatePercent <= 0) {
    kind = 'idle';
    summary = 'candidate at 0 %: nothing to judge';
    breaches.length = 0;
  } else if (breaches.length > 0) {
    kind = 'breach';
    summary = breaches.map((b) => b.message).join('; ');
  } else if (judged === 0) {
    kind = 'insufficient-data';
    summary = `not enough evidence: ${skipped[0] ?? 'no window judged'}`;
  } else {
    kind = 'healthy';
    const w = windows[0];
    summary = `candidate error rate ${pct(w.candidate.errorRate)}, p99 ${w.candidate.p99Ms.toFixed(1)} ms over ${w.seconds} s (${w.candidate.requests} requests)`;
  }

  const verdict: Verdict = { kind, at: now, summary, breaches, skipped, evidence };
  const events: GuardEvent[] = [];
  const next: RouteGuardState = { ...state, lastVerdict: verdict };
  if (state.lastVerdict?.kind !== kind) next.lastChange = now;

  // Insufficient data is neither a pass nor a failure: it leaves the breach streak as it was.
  if (kind === 'insufficient-data') {
    if (state.insufficientSince === null) {
      next.insufficientSince = now;
      events.push({ type: 'insufficient-data-began', since: now });
    }
  } else if (state.insufficientSince !== null) {
    next.insufficientSince = null;
    events.push({ type: 'insufficient-data-ended', since: state.insufficientSince, durationMs: now - state.insufficientSince });
  }

  let action: Decision['action'] = 'none';
  if (kind === 'breach') {
    next.streak = state.streak + 1;
    if (state.streak === 0) events.push({ type: 'breach-started', breaches });
    if (next.streak >= policy.consecutive && !state.detected) {
      next.detected = true;
      events.push({ type: 'breach-detected', breaches, dryRun: policy.dryRun });
      action = policy.dryRun ? 'would-revert' : 'revert';
    }
  } else if (kind === 'healthy' || kind === 'idle') {
    if (state.streak > 0 || state.detected) events.push({ type: 'recovered' });
    next.streak = 0;
    next.detected = false;
  }
  return { verdict, state: next, events, action };
}
