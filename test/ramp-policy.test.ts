// The ramp's pure decisions with a fake clock: hold figures judged by the guard's rules, what holds
// a step (time, evidence, the confirm gate), and what each operator command does.
import { describe, expect, it } from 'vitest';
import type { RoutePolicy } from '../src/guard/policy.js';
import type { Figures } from '../src/guard/rules.js';
import { moreNeeded } from '../src/guard/bounds.js';
import { judgeHold } from '../src/ramp/evidence.js';
import { planOf, rampProblems } from '../src/ramp/plan.js';
import { breachAction, command, decide, type RampState } from '../src/ramp/policy.js';

const policy: RoutePolicy = {
  enabled: true,
  minRequests: 5,
  consecutive: 1,
  dryRun: false,
  confidence: 0.999,
  revertOnSharedOutage: false,
  rules: { maxErrorRate: 0.05, maxP99Ms: null, maxP99Ratio: null, maxErrorRateDelta: null },
};
const plan = planOf({ steps: [5, 25, 50, 100], holdSeconds: 60, onBreach: 'revert' });
const figures = (requests: number, errors = 0): Figures => ({ requests, errors, timed: requests, slow: 0, inFlightMs: [], timeoutMs: 30_000 });
const hold = (candidate: number, errors = 0) => judgeHold({ seconds: 0, candidate: figures(candidate, errors), legacy: figures(candidate * 10) }, policy);
const T0 = Date.parse('2030-01-01T00:00:00Z');

function started(): RampState {
  return command('start', 'default', plan, undefined, T0)!.state;
}

describe('ramp plan', () => {
  it('expands stepWeight to maxWeight and refuses steps that do not land on it or do not increase', () => {
    expect(planOf({ stepWeight: 25, holdSeconds: 1, onBreach: 'revert' }).steps).toEqual([25, 50, 75, 100]);
    expect(planOf({ stepWeight: 0.1, maxWeight: 0.3, holdSeconds: 1, onBreach: 'revert' }).steps).toEqual([0.1, 0.2, 0.3]);
    expect(rampProblems({ stepWeight: 30, maxWeight: 100, holdSeconds: 1, onBreach: 'revert' }, 'r')).toEqual([expect.stringContaining('does not land exactly on maxWeight 100')]);
    expect(rampProblems({ steps: [5, 5, 50], holdSeconds: 1, onBreach: 'revert' }, 'r')).toEqual(['r.steps[1]: must be above the step before it (5), got 5']);
    expect(rampProblems({ steps: [5], stepWeight: 5, holdSeconds: 1, onBreach: 'revert' }, 'r')[0]).toContain('exactly one of steps or stepWeight');
  });
});

describe('ramp decisions', () => {
  it('without traffic, holds at the first step for ever: never a pass, never a failure', () => {
    const state = started();
    for (const minutes of [0, 1, 10, 600]) {
      const d = decide({ plan, state, rules: hold(0), gate: undefined, now: T0 + minutes * 60_000 });
      expect(d.kind).toBe('hold');
      if (d.kind === 'hold') expect(d.reason).toBe(minutes < 1 ? 'time' : 'evidence');
    }
  });

  it('says how much evidence is missing', () => {
    // 0 errors in n: the 99.9 % upper bound falls below 5 % from n = 135 on.
    expect(moreNeeded(0, 0, 0.05, 0.999, 5)).toBe(135);
    const d = decide({ plan, state: started(), rules: hold(35), gate: undefined, now: T0 + 61_000 });
    expect(d).toMatchObject({ kind: 'hold', reason: 'evidence', missing: ['maxErrorRate: needs ~100 more candidate requests without an error (0 of 35 so far)'] });
  });

  it('holds for the whole hold even with conclusive evidence, then takes the next step', () => {
    const state = started();
    expect(decide({ plan, state, rules: hold(1000), gate: undefined, now: T0 + 59_999 })).toMatchObject({ kind: 'hold', reason: 'time' });
    const d = decide({ plan, state, rules: hold(1000), gate: undefined, now: T0 + 60_000 });
    expect(d.kind).toBe('advance');
    if (d.kind !== 'advance') return;
    expect(d.transition.percent).toBe(25);
    expect(d.transition.state).toMatchObject({ status: 'running', step: 1, holdUntil: new Date(T0 + 120_000).toISOString() });
  });

  it('a conclusive breach over the hold acts at once, before the hold is over', () => {
    const d = decide({ plan, state: started(), rules: hold(200, 60), gate: undefined, now: T0 + 1000 });
    expect(d).toMatchObject({ kind: 'breach', action: 'revert' });
    const paused = { ...plan, onBreach: 'pause' as const };
    expect(decide({ plan: paused, state: started(), rules: hold(200, 60), gate: undefined, now: T0 + 1000 })).toMatchObject({ kind: 'breach', action: 'pause' });
    expect(breachAction(paused, started())).toBe('pause');
    expect(breachAction(paused, undefined)).toBe('revert'); // no ramp under way: the guard's way
  });

  it('with a confirm webhook, asks it and holds until it approves; a refusal is asked again later', () => {
    const gated = { ...plan, confirmWebhook: 'http://127.0.0.1:1/confirm' };
    const state = started();
    const at = T0 + 60_000;
    expect(decide({ plan: gated, state, rules: hold(1000), gate: undefined, now: at })).toEqual({ kind: 'confirm', from: 5, to: 25 });
    expect(decide({ plan: gated, state, rules: hold(1000), gate: { status: 'pending', at }, now: at + 1 })).toMatchObject({ kind: 'hold', reason: 'confirming' });
    expect(decide({ plan: gated, state, rules: hold(1000), gate: { status: 'refused', at, reason: 'HTTP 409' }, now: at + 1 })).toMatchObject({ kind: 'hold', reason: 'confirm-refused', message: expect.stringContaining('HTTP 409') });
    expect(decide({ plan: gated, state, rules: hold(1000), gate: { status: 'refused', at, reason: 'HTTP 409' }, now: at + 10_000 }).kind).toBe('confirm');
    expect(decide({ plan: gated, state, rules: hold(1000), gate: { status: 'approved', at }, now: at + 1 }).kind).toBe('advance');
  });

  it('the last step ends the ramp done once its hold passes with evidence', () => {
    let state = started();
    for (let i = 0; i < 3; i++) state = command('promote', 'default', plan, state, T0)!.state;
    expect(state.steps[state.step]).toBe(100);
    const d = decide({ plan, state, rules: hold(1000), gate: undefined, now: T0 + 60_000 });
    expect(d.kind === 'advance' && d.transition.state.status).toBe('done');
  });
});

describe('ramp commands', () => {
  it('pause keeps the hold left; resume restarts the clock with it; both are idempotent', () => {
    const state = started();
    const paused = command('pause', 'default', plan, state, T0 + 20_000)!.state;
    expect(paused).toMatchObject({ status: 'paused', holdLeftMs: 40_000 });
    expect(command('pause', 'default', plan, paused, T0 + 30_000)).toBeNull();
    expect(decide({ plan, state: paused, rules: hold(1000), gate: undefined, now: T0 + 10 * 60_000 }).kind).toBe('none');
    const resumed = command('resume', 'default', plan, paused, T0 + 100_000)!.state;
    expect(resumed).toMatchObject({ status: 'running', holdUntil: new Date(T0 + 140_000).toISOString() });
    expect(command('resume', 'default', plan, resumed, T0 + 100_001)).toBeNull();
  });

  it('promote takes the next step now; promote --full goes to 100 % even while paused; abort goes to 0 %', () => {
    const state = started();
    expect(command('promote', 'default', plan, state, T0 + 1)).toMatchObject({ percent: 25, state: { step: 1, status: 'running' } });
    const paused = command('pause', 'default', plan, state, T0 + 1)!.state;
    expect(command('promote-full', 'default', plan, paused, T0 + 2)).toMatchObject({ percent: 100, state: { status: 'done' } });
    const aborted = command('abort', 'default', plan, paused, T0 + 2)!;
    expect(aborted).toMatchObject({ percent: 0, state: { status: 'aborted' } });
    expect(command('abort', 'default', plan, aborted.state, T0 + 3)).toBeNull();
    expect(() => command('resume', 'default', plan, aborted.state, T0 + 3)).toThrow(/is aborted/);
    expect(command('start', 'default', plan, state, T0 + 3)).toBeNull(); // already under way
  });
});
