// The ramp's decisions, pure: (plan, ramp state, the rules judged over the hold, the confirm gate,
// now) → hold (with what is missing) | confirm | next step | done | breach; and what each operator
// command does to the state. No I/O, no timers, no clock of its own: runner.ts applies these
// through control/, which owns the state and persists it.
import { CutoverError } from '../errors.js';
import type { RuleResult } from '../guard/rules.js';
import type { GuardActions, Transition } from '../control/types.js';
import { revertLatch } from '../guard/plan.js';
import type { RampState } from '../state/types.js';
import type { RampPlan } from './plan.js';

export { RAMP_STATUSES, type RampState, type RampStatus } from '../state/types.js';
export type { Transition } from '../control/types.js';


export type RampCommand = 'start' | 'pause' | 'resume' | 'promote' | 'promote-full' | 'abort';


/** Whether the ramp is under way (it may still move the split). */
export const active = (s: RampState | undefined): s is RampState => s?.status === 'running' || s?.status === 'paused';

const iso = (ms: number) => new Date(ms).toISOString();

function stepTo(state: RampState, step: number, plan: RampPlan, now: number): Transition {
  const next: RampState = { ...state, status: 'running', step, stepStartedAt: iso(now), holdUntil: iso(now + plan.holdMs) };
  delete next.holdLeftMs;
  delete next.reason;
  delete next.evidence;
  return { state: next, percent: state.steps[step] };
}

function end(state: RampState, status: 'done' | 'failed' | 'aborted', now: number, reason: string, evidence?: unknown): RampState {
  const next: RampState = { ...state, status, endedAt: iso(now), reason };
  delete next.holdLeftMs;
  if (evidence !== undefined) next.evidence = evidence;
  return next;
}

const notRunning = (route: string, state: RampState | undefined) =>
  new CutoverError(
    'ramp_not_running',
    state
      ? `the ramp on ${route} is ${state.status}${state.reason ? ` (${state.reason})` : ''}; start a new one with cutover ramp start --route ${route}`
      : `no ramp was started on ${route}; start one with cutover ramp start --route ${route}`,
  );

/**
 * What an operator command does. Idempotent: a command that finds the ramp already where it
 * would put it returns null (nothing to change). Throws CutoverError when it makes no sense.
 */
export function command(cmd: RampCommand, route: string, plan: RampPlan, state: RampState | undefined, now: number, reason?: string): Transition | null {
  const why = reason ?? `${cmd} by an operator`;
  switch (cmd) {
    case 'start': {
      if (active(state)) return null; // already under way: starting again changes nothing
      const fresh: RampState = { status: 'running', steps: [...plan.steps], step: 0, startedAt: iso(now), stepStartedAt: iso(now), holdUntil: iso(now + plan.holdMs) };
      return { state: fresh, percent: fresh.steps[0] };
    }
    case 'pause': {
      if (state?.status === 'paused') return null;
      if (!active(state)) throw notRunning(route, state);
      return { state: { ...state, status: 'paused', holdLeftMs: Math.max(0, Date.parse(state.holdUntil) - now), reason: why }, percent: undefined };
    }
    case 'resume': {
      if (state?.status === 'running') return null;
      if (!active(state)) throw notRunning(route, state);
      const next: RampState = { ...state, status: 'running', holdUntil: iso(now + (state.holdLeftMs ?? 0)) };
      delete next.holdLeftMs;
      delete next.reason;
      delete next.evidence;
      return { state: next, percent: undefined };
    }
    case 'promote': {
      // The next step now, without waiting for the hold or its evidence; from a pause too (a
      // promotion is a person's explicit go, so the ramp runs again from there).
      if (!active(state)) throw notRunning(route, state);
      if (state.step === state.steps.length - 1) return { state: end(state, 'done', now, `promoted past the last step: ${why}`), percent: undefined };
      return stepTo(state, state.step + 1, plan, now);
    }
    case 'promote-full': {
      // 100 % now, running or paused (the pause must not swallow it).
      if (state?.status === 'done' && state.steps[state.step] === 100) return null;
      if (!active(state)) throw notRunning(route, state);
      return { state: end({ ...state, step: state.steps.length - 1 }, 'done', now, `promoted to 100 %: ${why}`), percent: 100 };
    }
    case 'abort': {
      if (!active(state)) return null; // nothing under way; the split is the rollback's business
      return { state: end(state, 'aborted', now, why), percent: 0 };
    }
  }
}

/** The ramp after the guard (or its own hold evidence) reverted the route: it ends failed, with the evidence. */
export function failed(state: RampState, now: number, reason: string, evidence: unknown): RampState {
  return end(state, 'failed', now, reason, evidence);
}

/** The ramp after someone set the route's split by hand: the ramp no longer drives it. */
export function superseded(state: RampState, now: number, percent: number, source: string): RampState {
  return end(state, 'aborted', now, `the split was set to ${percent} % by ${source}; the ramp stopped driving it`);
}

/**
 * What a breach on a route does while a ramp runs there: revert (the guard's way, the ramp ends
 * failed) or pause (the step holds for a person, the guard does not revert). Asked by the guard
 * runner for every route it would revert.
 */
export function breachAction(plan: RampPlan | undefined, state: RampState | undefined): 'revert' | 'pause' {
  return plan?.onBreach === 'pause' && active(state) ? 'pause' : 'revert';
}

/** The ramp paused by a breach (null when it is paused already). */
export function pausedByBreach(state: RampState, now: number, reason: string, evidence: unknown): RampState | null {
  if (state.status !== 'running') return null;
  return { ...state, status: 'paused', holdLeftMs: Math.max(0, Date.parse(state.holdUntil) - now), reason: `breach: ${reason}`, evidence };
}

/** The answer of the confirm webhook for the current step, as the runner keeps it. */
export type Gate = { status: 'pending'; at: number } | { status: 'approved'; at: number } | { status: 'refused'; at: number; reason: string };

/** A refused confirmation is asked again after this long. */
export const CONFIRM_RETRY_MS = 10_000;

/** One rule judged over the hold, with how much evidence it still lacks. */
export interface HoldRule {
  result: RuleResult;
  /** What is missing for a healthy verdict, in words (undefined when healthy). */
  missing?: string;
}

export type HoldReason = 'time' | 'evidence' | 'confirming' | 'confirm-refused';

export type Decision =
  | { kind: 'none' }
  | { kind: 'hold'; reason: HoldReason; message: string; holdLeftMs: number; missing: string[] }
  | { kind: 'confirm'; from: number; to: number }
  | { kind: 'advance'; transition: Transition; message: string }
  | { kind: 'breach'; action: 'revert' | 'pause'; breaches: RuleResult[]; message: string };

/**
 * One evaluation of a running ramp. A breach over the hold acts at once; otherwise the step holds
 * until the hold time has passed AND every enabled rule judged the hold healthy with conclusive
 * evidence (no traffic or too little: hold, never a pass and never a failure) AND, when a confirm
 * webhook is configured, it answered 2xx for this step.
 */
export function decide(input: { plan: RampPlan; state: RampState | undefined; rules: HoldRule[]; gate: Gate | undefined; now: number }): Decision {
  const { plan, state, rules, gate, now } = input;
  if (state?.status !== 'running') return { kind: 'none' };
  const breaches = rules.filter((r) => r.result.outcome === 'breach').map((r) => r.result);
  if (breaches.length > 0) {
    return { kind: 'breach', action: plan.onBreach, breaches, message: `breach over the hold of step ${state.step + 1}/${state.steps.length}: ${breaches.map((b) => b.message).join('; ')}` };
  }
  const holdLeftMs = Math.max(0, Date.parse(state.holdUntil) - now);
  const missing = rules.filter((r) => r.result.outcome !== 'healthy').map((r) => r.missing ?? r.result.message);
  if (holdLeftMs > 0) {
    const also = missing.length > 0 ? `; evidence so far: ${missing.join('; ')}` : '; the evidence is conclusive already';
    return { kind: 'hold', reason: 'time', message: `holding ${Math.ceil(holdLeftMs / 1000)} s more at ${state.steps[state.step]} %${also}`, holdLeftMs, missing };
  }
  if (missing.length > 0) {
    return { kind: 'hold', reason: 'evidence', message: `the hold is over but the evidence is not conclusive: ${missing.join('; ')}`, holdLeftMs: 0, missing };
  }
  const last = state.step === state.steps.length - 1;
  const from = state.steps[state.step];
  if (!last && plan.confirmWebhook !== undefined) {
    const to = state.steps[state.step + 1];
    if (gate === undefined || (gate.status === 'refused' && now - gate.at >= CONFIRM_RETRY_MS)) return { kind: 'confirm', from, to };
    if (gate.status === 'pending') return { kind: 'hold', reason: 'confirming', message: `waiting for the confirm webhook to approve ${from} % → ${to} %`, holdLeftMs: 0, missing: [] };
    if (gate.status === 'refused') {
      return { kind: 'hold', reason: 'confirm-refused', message: `the confirm webhook did not approve ${from} % → ${to} %: ${gate.reason} (asked again in ${Math.ceil((CONFIRM_RETRY_MS - (now - gate.at)) / 1000)} s)`, holdLeftMs: 0, missing: [] };
    }
  }
  if (last) {
    const why = `the last step (${from} %) held with healthy evidence: ramp done`;
    return { kind: 'advance', transition: { state: end(state, 'done', now, why), percent: undefined }, message: why };
  }
  return { kind: 'advance', transition: stepTo(state, state.step + 1, plan, now), message: `step ${state.step + 2}/${state.steps.length}: ${from} % → ${state.steps[state.step + 1]} %` };
}

/**
 * What a breach over the hold does, as the guard's actions (applied like the guard's plan, in one
 * control call): revert the route with a latch carrying the hold's evidence, or, with onBreach:
 * pause, pause the ramp for a person.
 */
export function holdBreachActions(route: string, d: Extract<Decision, { kind: 'breach' }>, now: number): GuardActions {
  const evidence = { hold: true, rules: d.breaches };
  if (d.action === 'pause') return { reverts: [], pauses: [{ route, reason: d.message, evidence }], notes: [] };
  return { reverts: [{ route, reason: d.message, latch: revertLatch(d.breaches[0].rule, d.message, evidence, now) }], pauses: [], notes: [] };
}

/** The webhook event type of a ramp change, from the state before and after. */
export function rampEvent(from: RampState | undefined, to: RampState, source: string): string {
  if (to.status === 'done' || to.status === 'failed' || to.status === 'aborted') return 'ramp-ended';
  if (to.status === 'paused') return 'ramp-paused';
  if (!active(from)) return 'ramp-started';
  if (to.step !== from.step) return source === 'ramp' ? 'ramp-step' : 'ramp-promoted';
  return 'ramp-resumed';
}

/** "running 2/4 at 25 %": how history and logs show a ramp state. */
export function rampLabel(s: RampState | undefined): string {
  if (!s) return 'none';
  return `${s.status} ${s.step + 1}/${s.steps.length} at ${s.steps[s.step]} %`;
}
