// How a route's ramp is shown (GET /api/v1/ramp, cutover ramp status): state, step i/N, current and
// next weight, time left in the hold, and the evidence so far against what is needed. Pure.
import type { RampPlan } from './plan.js';
import type { Decision, HoldRule, RampState } from './policy.js';

export interface RampView {
  state: RampState['status'] | 'not-started';
  /** 1-based; null before a start. */
  step: number | null;
  steps: number[];
  candidatePercent: number;
  nextPercent: number | null;
  holdSeconds: number;
  holdLeftSeconds: number | null;
  holdUntil: string | null;
  onBreach: RampPlan['onBreach'];
  confirmWebhook: boolean;
  /** Why it holds (time, evidence, confirming, confirm-refused), or why it paused or ended. */
  waitingFor: string | null;
  message: string | null;
  evidence: {
    requests: { candidate: number; legacy: number };
    /** Shadow comparisons over the hold (null: the route does not shadow). */
    comparisons: number | null;
    rules: Array<{ rule: string; outcome: string; n: number; x: number; observed: number; lower: number; upper: number; limit: number; missing: string | null; message: string; needed?: number | null }>;
  } | null;
  startedAt: string | null;
  endedAt: string | null;
  reason: string | null;
  breachEvidence: unknown;
}

export function rampView(input: {
  plan: RampPlan;
  state: RampState | undefined;
  percent: number;
  now: number;
  last: { decision: Decision; rules: HoldRule[]; hold: { candidate: number; legacy: number; comparisons: number | null } } | undefined;
}): RampView {
  const { plan, state, percent, now, last } = input;
  const steps = state?.steps ?? plan.steps;
  const ongoing = state?.status === 'running' || state?.status === 'paused';
  const holdLeftMs = !ongoing ? null : state.status === 'paused' ? (state.holdLeftMs ?? 0) : Math.max(0, Date.parse(state.holdUntil) - now);
  const d = last?.decision;
  return {
    state: state?.status ?? 'not-started',
    step: state ? state.step + 1 : null,
    steps,
    candidatePercent: percent,
    nextPercent: ongoing && state.step + 1 < steps.length ? steps[state.step + 1] : null,
    holdSeconds: plan.holdMs / 1000,
    holdLeftSeconds: holdLeftMs === null ? null : Math.ceil(holdLeftMs / 1000),
    holdUntil: ongoing && state.status === 'running' ? state.holdUntil : null,
    onBreach: plan.onBreach,
    confirmWebhook: plan.confirmWebhook !== undefined,
    waitingFor: state?.status === 'running' && d?.kind === 'hold' ? d.reason : state?.status === 'paused' ? 'an operator (resume, promote or abort)' : null,
    message: state?.status === 'running' && d && d.kind !== 'none' && 'message' in d ? d.message : (state?.reason ?? null),
    evidence: last
      ? {
          requests: { candidate: last.hold.candidate, legacy: last.hold.legacy },
          comparisons: last.hold.comparisons,
          rules: last.rules.map((r) => ({
            rule: r.result.rule,
            outcome: r.result.outcome,
            n: r.result.n,
            x: r.result.x,
            observed: r.result.observed,
            lower: r.result.lower,
            upper: r.result.upper,
            limit: r.result.limit,
            missing: r.missing ?? null,
            message: r.result.message,
            // maxMismatchRate: how many more matching comparisons make it conclusive.
            ...('needed' in r.result ? { needed: (r.result as { needed: number | null }).needed } : {}),
          })),
        }
      : null,
    startedAt: state?.startedAt ?? null,
    endedAt: state?.endedAt ?? null,
    reason: state?.reason ?? null,
    breachEvidence: state?.evidence ?? null,
  };
}
