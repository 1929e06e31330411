// The guard's maxMismatchRate as a table on the pure policy with a fake clock: healthy latency and
// errors, and the shadow's comparisons deciding alone: breach (naming the differing path),
// healthy, not enough evidence with the count still needed, a route without a shadow, and a
// re-arm after which only later comparisons count.
import { describe, expect, it } from 'vitest';
import { evaluate, initialGuardState, type MismatchFigures, type RoutePolicy, type RouteGuardState, type WindowFigures } from '../src/guard/policy.js';

const policy: RoutePolicy = {
  enabled: true,
  minRequests: 20,
  consecutive: 1,
  dryRun: false,
  confidence: 0.99,
  revertOnSharedOutage: false,
  rules: { maxErrorRate: 0.05, maxP99Ms: null, maxP99Ratio: null, maxErrorRateDelta: null, maxMismatchRate: 0.05 },
};

/** A window where the candidate answers every request fast and without an error. */
const fine = (seconds: number): WindowFigures => {
  const f = { requests: 2000, errors: 0, timed: 2000, slow: 0, inFlightMs: [], timeoutMs: 30_000 };
  return { seconds, candidate: f, legacy: f };
};

function judge(parity: MismatchFigures | undefined, state: RouteGuardState = initialGuardState(0), now = 1000, candidatePercent = 10) {
  return evaluate({ windows: [fine(30), fine(5)], policy, state, candidatePercent, now, intervalMs: 500, parity });
}

const rule = (d: ReturnType<typeof judge>) => d.verdict.rules.find((r) => r.rule === 'maxMismatchRate') as (ReturnType<typeof judge>['verdict']['rules'][number] & { needed: number | null }) | undefined;

describe('guard: maxMismatchRate on the shadow comparisons', () => {
  it.each([
    ['a wrong total in 20 of 50 answers: breach, revert', { compared: 50, mismatched: 20, differences: { '/total': 20 } }, 'breach', 'revert'],
    ['2000 matching answers: healthy', { compared: 2000, mismatched: 0 }, 'healthy', 'none'],
    ['40 matching answers: not enough evidence yet', { compared: 40, mismatched: 0 }, 'insufficient-data', 'none'],
    ['3 answers, all different, below minRequests: never a revert', { compared: 3, mismatched: 3, differences: { '/total': 3 } }, 'insufficient-data', 'none'],
  ] as const)('%s', (_name, parity, kind, action) => {
    const d = judge(parity);
    expect(d.verdict.kind).toBe(kind);
    expect(d.action).toBe(action);
    expect(rule(d)).toMatchObject({ n: parity.compared, x: parity.mismatched, limit: 0.05 });
  });

  it('names the rate, the counts and the differing path in the verdict', () => {
    const d = judge({ compared: 50, mismatched: 20, differences: { '/total': 20, '/items/*/price': 2 } });
    expect(d.verdict.summary).toContain('mismatch rate 40.0 % (20 of 50 comparisons');
    expect(d.verdict.summary).toContain('differing: /total (20), /items/*/price (2)');
    expect(d.verdict.breaches.map((b) => b.rule)).toEqual(['maxMismatchRate']);
  });

  it('says how many more matching comparisons it needs while inconclusive', () => {
    const r = rule(judge({ compared: 40, mismatched: 0 }))!;
    expect(r.outcome).toBe('inconclusive');
    // 0 of n at 99 %: the upper bound 1 - 0.01^(1/n) falls below 5 % from n = 90 on.
    expect(r.needed).toBe(50);
    expect(r.message).toContain('needs ~50 more comparisons without a mismatch');
  });

  it('is not judged on a route without a shadow (nothing to wait for)', () => {
    const d = judge(undefined);
    expect(d.verdict.kind).toBe('healthy');
    expect(rule(d)).toBeUndefined();
  });

  it('is not judged at 0 %: nothing to revert', () => {
    expect(judge({ compared: 50, mismatched: 50 }, initialGuardState(0), 1000, 0).verdict.kind).toBe('idle');
  });

  it('after a re-arm only the comparisons since count', () => {
    const atRearm = { compared: 50, mismatched: 20, differences: { '/total': 20 } };
    const rearmed = initialGuardState(5000, atRearm);
    // 10 more, all matching: the 20 old mismatches are not judged again.
    const soon = judge({ compared: 60, mismatched: 20, differences: { '/total': 20 } }, rearmed, 5500);
    expect(soon.action).toBe('none');
    expect(rule(soon)).toMatchObject({ n: 10, x: 0, outcome: 'inconclusive' });
    const later = judge({ compared: 2050, mismatched: 20, differences: { '/total': 20 } }, soon.state, 9000);
    expect(later.verdict.kind).toBe('healthy');
    expect(rule(later)).toMatchObject({ n: 2000, x: 0 });
    // A later breach is judged on the new comparisons alone, and names only what differs since.
    const bad = judge({ compared: 2100, mismatched: 60, differences: { '/total': 60 } }, later.state, 9500);
    expect(rule(bad)).toMatchObject({ n: 2050, x: 40 });
  });

  it('counts everything when the figures were reset below the baseline', () => {
    const rearmed = initialGuardState(0, { compared: 500, mismatched: 0 });
    expect(rule(judge({ compared: 50, mismatched: 20 }, rearmed))).toMatchObject({ n: 50, x: 20, outcome: 'breach' });
  });
});
