// The guard's whole plan for one evaluation, pure: (each route's decision, the routes with their
// policies, latches and the ramps' onBreach, scope, now) → the reverts with their latches and
// evidence, the ramps to pause instead, and the observations for the history. The runner applies
// it in one control call (Control.applyGuard) and reports it; it decides nothing itself.
import type { GuardActions } from '../control/types.js';
import type { GuardLatch } from '../state/types.js';
import { revertTargets, type Decision, type RoutePolicy, type Verdict } from './policy.js';

export interface PlanRoute {
  name: string;
  policy: RoutePolicy;
  latched: boolean;
  /** What a breach does here: revert (the guard's way), or pause the ramp under way (its onBreach: pause). */
  onBreach: 'revert' | 'pause';
}

export interface GuardPlan extends GuardActions {
  /** The route whose breach came first, with its verdict (undefined: nothing to revert). */
  trigger: { route: string; verdict: Verdict } | undefined;
}

/** A verdict's evidence as logs, history, latches and webhooks carry it. */
export function evidenceOf(v: Verdict) {
  return { ...v.evidence, rules: v.rules };
}

/** The latch a revert leaves on a route until an operator re-arms. */
export function revertLatch(rule: string, reason: string, evidence: unknown, now: number): GuardLatch {
  return { state: 'reverted', since: new Date(now).toISOString(), rule, reason, evidence };
}

/** The history entries a decision's events make (a shared outage, a detection, a dry run's would-revert). */
function notesOf(route: string, d: Decision): GuardActions['notes'] {
  const notes: GuardActions['notes'] = [];
  for (const e of d.events) {
    if (e.type === 'shared-outage') notes.push({ source: 'guard', kind: 'guard', route, from: 'armed', to: 'shared-outage', reason: d.verdict.summary });
    if (e.type === 'breach-detected') notes.push({ source: 'guard', kind: 'guard', route, from: 'armed', to: e.dryRun ? 'would-revert' : 'breach-detected', reason: d.verdict.summary });
  }
  return notes;
}

/**
 * The plan of one evaluation. Each route that must revert, and with scope `all` every route the
 * guard may move, is reverted with the evidence of the breach that hit it (its own, else the
 * first); a route whose ramp pauses on a breach is paused instead.
 */
export function guardPlan(input: {
  decisions: ReadonlyArray<{ route: string; decision: Decision }>;
  routes: readonly PlanRoute[];
  scope: 'all' | 'route';
  now: number;
}): GuardPlan {
  const notes = input.decisions.flatMap(({ route, decision }) => notesOf(route, decision));
  const triggers = input.decisions.filter((d) => d.decision.action === 'revert');
  const plan: GuardPlan = { reverts: [], pauses: [], notes, trigger: undefined };
  if (triggers.length === 0) return plan;
  const first = triggers[0];
  plan.trigger = { route: first.route, verdict: first.decision.verdict };
  const routes = new Map(input.routes.map((r) => [r.name, r]));
  for (const route of revertTargets(input.scope, triggers.map((t) => t.route), input.routes)) {
    const t = triggers.find((x) => x.route === route) ?? first;
    const v = t.decision.verdict;
    const reason = t.route === route ? v.summary : `scope all: ${t.route} breached: ${v.summary}`;
    const evidence = { route: t.route, ...evidenceOf(v) };
    if (routes.get(route)?.onBreach === 'pause') plan.pauses.push({ route, reason, evidence });
    else plan.reverts.push({ route, reason, latch: revertLatch(v.breaches[0].rule, reason, evidence, input.now) });
  }
  return plan;
}
