// The guard's whole plan, pure: which routes revert (with which latch and evidence), which ramps
// pause instead (onBreach: pause), which observations reach the history. Tables, a fixed clock.
import { describe, expect, it } from 'vitest';
import { guardPlan, type PlanRoute } from '../src/guard/plan.js';
import { evaluate, initialGuardState, type Decision, type RoutePolicy } from '../src/guard/policy.js';

const policy = (o: Partial<RoutePolicy> = {}): RoutePolicy => ({
  enabled: true,
  minRequests: 5,
  consecutive: 1,
  dryRun: false,
  confidence: 0.999,
  revertOnSharedOutage: false,
  ...o,
  rules: { maxErrorRate: 0.05, maxP99Ms: null, maxP99Ratio: null, maxErrorRateDelta: null, ...o.rules },
});
const fig = (requests: number, errors: number) => ({ requests, errors, timed: requests, slow: 0, inFlightMs: [], timeoutMs: 30_000 });
const NOW = 1_700_000_000_000;

/** The decision of one evaluation: the candidate failing (all errors), healthy, or both failing (shared outage). */
function decide(kind: 'failing' | 'healthy' | 'shared', p = policy()): Decision {
  const candidate = kind === 'healthy' ? fig(2000, 0) : fig(200, 200);
  const legacy = kind === 'shared' ? fig(2000, 2000) : fig(2000, 0);
  return evaluate({ windows: [{ seconds: 30, candidate, legacy }], policy: p, state: initialGuardState(0), candidatePercent: 10, now: NOW, intervalMs: 500 });
}
const route = (name: string, o: Partial<PlanRoute> = {}): PlanRoute => ({ name, policy: policy(), latched: false, onBreach: 'revert', ...o });

describe('guardPlan', () => {
  it.each([
    { name: 'scope route: only the breaching route reverts', scope: 'route' as const, routes: [route('a'), route('b')], failing: ['a'], reverts: ['a'], pauses: [] },
    { name: 'scope all: every route the guard may move reverts', scope: 'all' as const, routes: [route('a'), route('b'), route('off', { policy: policy({ enabled: false }) }), route('dry', { policy: policy({ dryRun: true }) }), route('latched', { latched: true })], failing: ['a'], reverts: ['a', 'b'], pauses: [] },
    { name: 'onBreach pause: the ramp pauses instead of the revert', scope: 'route' as const, routes: [route('a', { onBreach: 'pause' })], failing: ['a'], reverts: [], pauses: ['a'] },
    { name: 'scope all with a pausing ramp elsewhere: it pauses, the others revert', scope: 'all' as const, routes: [route('a'), route('b', { onBreach: 'pause' })], failing: ['a'], reverts: ['a'], pauses: ['b'] },
    { name: 'nothing breaches: nothing to apply', scope: 'all' as const, routes: [route('a'), route('b')], failing: [], reverts: [], pauses: [] },
  ])('$name', ({ scope, routes, failing, reverts, pauses }) => {
    const decisions = routes.filter((r) => !r.latched && r.policy.enabled).map((r) => ({ route: r.name, decision: decide(failing.includes(r.name) ? 'failing' : 'healthy', r.policy) }));
    const plan = guardPlan({ decisions, routes, scope, now: NOW });
    expect(plan.reverts.map((r) => r.route)).toEqual(reverts);
    expect(plan.pauses.map((p) => p.route)).toEqual(pauses);
    expect(plan.trigger?.route).toBe(failing[0]);
    for (const r of plan.reverts) {
      expect(r.latch).toMatchObject({ state: 'reverted', since: new Date(NOW).toISOString(), rule: 'maxErrorRate', reason: r.reason, evidence: { route: failing[0] } });
      expect(r.reason).toBe(r.route === failing[0] ? plan.trigger!.verdict.summary : `scope all: ${failing[0]} breached: ${plan.trigger!.verdict.summary}`);
    }
  });

  it.each([
    { name: 'a detected breach', decision: () => decide('failing'), to: ['breach-detected'] },
    { name: 'a dry run', decision: () => decide('failing', policy({ dryRun: true })), to: ['would-revert'] },
    { name: 'a shared outage', decision: () => decide('shared'), to: ['shared-outage'] },
    { name: 'a healthy verdict', decision: () => decide('healthy'), to: [] },
  ])('notes $name in the history', ({ decision, to }) => {
    const d = decision();
    const plan = guardPlan({ decisions: [{ route: 'a', decision: d }], routes: [route('a', { policy: policy({ dryRun: to[0] === 'would-revert' }) })], scope: 'route', now: NOW });
    expect(plan.notes.map((n) => n.to)).toEqual(to);
    for (const n of plan.notes) expect(n).toMatchObject({ source: 'guard', kind: 'guard', route: 'a', from: 'armed', reason: d.verdict.summary });
    expect(plan.reverts.length).toBe(d.action === 'revert' ? 1 : 0);
  });
});
