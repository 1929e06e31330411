// The guard's policy on simulated traffic with a fake clock: real Series (HDR histograms, one-second
// slices) fed second by second, judged every second exactly as the runner does.
import { describe, expect, it } from 'vitest';
import { evaluate, initialGuardState, type Decision, type RoutePolicy } from '../src/guard/policy.js';
import { Series } from '../src/stats/series.js';

interface Load {
  /** requests per second */
  n: number;
  /** chance that a request fails with a 500 */
  errors: number;
  /** latency in ms for one request */
  latency: (rnd: () => number) => number;
}
type Traffic = (second: number) => { legacy: Load; candidate: Load };

const policy = (o: Partial<RoutePolicy> = {}): RoutePolicy => ({
  enabled: true,
  minRequests: 50,
  consecutive: 2,
  dryRun: false,
  ...o,
  rules: { maxErrorRate: 0.05, maxP99Ms: 5000, maxP99Ratio: null, maxErrorRateDelta: null, ...o.rules },
});

/** A seeded PRNG (mulberry32) so that "noise" is the same on every run. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const steady = (ms: number, jitter = 0.2) => (r: () => number) => ms * (1 - jitter + 2 * jitter * r());

/** Feed `seconds` of traffic and judge after every second; stops judging once it reverts. */
function simulate(seconds: number, traffic: Traffic, p: RoutePolicy, percent = 10) {
  const rnd = rng(42);
  const series = { legacy: new Series(30), candidate: new Series(30) };
  let state = initialGuardState(0);
  const decisions: Array<Decision & { second: number }> = [];
  for (let s = 0; s < seconds; s++) {
    const load = traffic(s);
    for (const b of ['legacy', 'candidate'] as const) {
      const l = load[b];
      for (let i = 0; i < l.n; i++) {
        const t = s * 1000 + (i * 1000) / l.n;
        series[b].response(t, rnd() < l.errors ? 500 : 200, l.latency(rnd) * 1000);
      }
    }
    const now = (s + 1) * 1000 - 1;
    const fig = (b: 'legacy' | 'candidate', w: number) => {
      const v = series[b].window(now, w);
      const errs = v.counters.status[4];
      return { requests: v.counters.requests, errorRate: v.counters.requests ? errs / v.counters.requests : 0, p99Ms: v.histogram.totalCount ? v.histogram.getValueAtPercentile(99) / 1000 : 0 };
    };
    const windows = [30, 5].map((w) => ({ seconds: w, legacy: fig('legacy', w), candidate: fig('candidate', w) }));
    const d = evaluate({ windows, policy: p, state, candidatePercent: percent, now });
    state = d.state;
    decisions.push({ ...d, second: s });
    if (d.action === 'revert') break;
  }
  return decisions;
}

const reverted = (ds: Decision[]) => ds.find((d) => d.action === 'revert');
const healthy = (n: number, ms = 20, errors = 0.002): Load => ({ n, errors, latency: steady(ms) });

describe('guard policy', () => {
  it('healthy with noise never reverts', () => {
    // 0.5 % background errors and latency spikes well under the thresholds, for ten minutes.
    const ds = simulate(600, () => ({ legacy: healthy(900, 20, 0.005), candidate: { n: 100, errors: 0.005, latency: (r) => (r() < 0.02 ? 400 : steady(10)(r)) } }), policy());
    expect(reverted(ds)).toBeUndefined();
    expect(ds.filter((d) => d.verdict.kind === 'breach')).toHaveLength(0);
    expect(ds.at(-1)!.verdict.kind).toBe('healthy');
  });

  it('an error burst reverts within 3 s at 1,000 req/s and 10 %, after 30 s of healthy history', () => {
    const failFrom = 40;
    const ds = simulate(60, (s) => ({ legacy: healthy(900), candidate: s >= failFrom ? { n: 100, errors: 1, latency: steady(5) } : healthy(100) }), policy());
    const r = reverted(ds)!;
    expect(r).toBeDefined();
    // Judged at the end of each simulated second: the revert comes at most 2 judgements later.
    expect(r.second - failFrom + 1).toBeLessThanOrEqual(3);
    expect(r.verdict.breaches[0]).toMatchObject({ rule: 'maxErrorRate', threshold: 0.05 });
    // the short window saw it first: one judgement after the failures began
    expect(ds.find((d) => d.verdict.kind === 'breach')!.verdict.breaches[0].windowSeconds).toBe(5);
    expect(r.verdict.evidence.windows[0].candidate.requests).toBeGreaterThan(2000);
    expect(r.events.map((e) => e.type)).toContain('breach-detected');
  });

  it('slow degradation past maxP99Ms reverts, not before the p99 crosses', () => {
    // candidate latency grows 100 ms per second from 1 s; p99 crosses 5 s around second 50
    const ds = simulate(120, (s) => ({ legacy: healthy(900), candidate: { n: 100, errors: 0, latency: steady(1000 + 100 * s, 0.05) } }), policy());
    const r = reverted(ds)!;
    expect(r.verdict.breaches.map((b) => b.rule)).toEqual(['maxP99Ms']);
    expect(r.verdict.breaches[0].observed).toBeGreaterThan(5000);
    const firstBreach = ds.find((d) => d.verdict.kind === 'breach')!;
    expect(firstBreach.second).toBeGreaterThan(35);
    expect(r.second).toBe(firstBreach.second + 1);
  });

  it('low traffic is insufficient data: no revert, and said so, even when every request fails', () => {
    const ds = simulate(120, () => ({ legacy: healthy(10), candidate: { n: 1, errors: 1, latency: steady(10) } }), policy());
    expect(reverted(ds)).toBeUndefined();
    expect(ds.every((d) => d.verdict.kind === 'insufficient-data')).toBe(true);
    expect(ds[0].events).toEqual([{ type: 'insufficient-data-began', since: 999 }]);
    expect(ds.at(-1)!.state.insufficientSince).toBe(999);
    expect(ds.at(-1)!.verdict.summary).toMatch(/candidate requests < minRequests 50/);
  });

  it('insufficient data ends when traffic arrives, and the event says how long it lasted', () => {
    const ds = simulate(20, (s) => ({ legacy: healthy(100), candidate: healthy(s < 5 ? 2 : 100) }), policy());
    const ended = ds.flatMap((d) => d.events).find((e) => e.type === 'insufficient-data-ended');
    expect(ended).toMatchObject({ type: 'insufficient-data-ended' });
    expect(ds.at(-1)!.verdict.kind).toBe('healthy');
  });

  it('a candidate faster than legacy does not trip the ratio rule', () => {
    const p = policy({ rules: { maxErrorRate: 0.05, maxP99Ms: 5000, maxP99Ratio: 1.5, maxErrorRateDelta: 0.02 } });
    const ds = simulate(60, () => ({ legacy: healthy(900, 200), candidate: healthy(100, 20) }), p);
    expect(reverted(ds)).toBeUndefined();
  });

  it('the ratio rule trips on a candidate 3 × slower than legacy, below the absolute p99', () => {
    const p = policy({ rules: { maxErrorRate: 0.05, maxP99Ms: 5000, maxP99Ratio: 1.5, maxErrorRateDelta: null } });
    const ds = simulate(60, () => ({ legacy: healthy(900, 20), candidate: healthy(100, 60) }), p);
    expect(reverted(ds)!.verdict.breaches[0].rule).toBe('maxP99Ratio');
  });

  it('both failing: the relative rule does not trip, the absolute one does', () => {
    const both = () => ({ legacy: { n: 900, errors: 0.2, latency: steady(20) }, candidate: { n: 100, errors: 0.2, latency: steady(20) } });
    const relativeOnly = policy({ rules: { maxErrorRate: null, maxP99Ms: null, maxP99Ratio: null, maxErrorRateDelta: 0.05 } });
    expect(reverted(simulate(60, both, relativeOnly))).toBeUndefined();
    const withAbsolute = policy({ rules: { maxErrorRate: 0.05, maxP99Ms: null, maxP99Ratio: null, maxErrorRateDelta: 0.05 } });
    expect(reverted(simulate(60, both, withAbsolute))!.verdict.breaches.map((b) => b.rule)).toEqual(['maxErrorRate']);
  });

  it('a relative rule needs enough legacy requests too', () => {
    const p = policy({ rules: { maxErrorRate: null, maxP99Ms: null, maxP99Ratio: null, maxErrorRateDelta: 0.01 } });
    const ds = simulate(30, () => ({ legacy: healthy(1), candidate: { n: 100, errors: 0.5, latency: steady(20) } }), p);
    expect(reverted(ds)).toBeUndefined();
    expect(ds.at(-1)!.verdict.skipped.join(' ')).toMatch(/relative rules need 50 legacy requests/);
  });

  it('consecutive: a single breaching evaluation does not act', () => {
    // one bad second, then fine again: the 5 s window breaches once or twice only if consecutive allows
    const ds = simulate(60, (s) => ({ legacy: healthy(900), candidate: s === 40 ? { n: 100, errors: 0.5, latency: steady(10) } : healthy(100) }), policy({ consecutive: 10 }));
    expect(reverted(ds)).toBeUndefined();
    expect(ds.some((d) => d.verdict.kind === 'breach')).toBe(true);
    expect(ds.flatMap((d) => d.events).map((e) => e.type)).toContain('recovered');
  });

  it('consecutive: n breaching evaluations in a row act on the n-th', () => {
    for (const n of [1, 2, 4]) {
      const ds = simulate(60, (s) => ({ legacy: healthy(900), candidate: s >= 40 ? { n: 100, errors: 1, latency: steady(5) } : healthy(100) }), policy({ consecutive: n }));
      const firstBreach = ds.find((d) => d.verdict.kind === 'breach')!;
      expect(reverted(ds)!.second - firstBreach.second + 1).toBe(n);
    }
  });

  it('dryRun detects the same breach and reports would-revert once, never revert', () => {
    const ds = simulate(60, (s) => ({ legacy: healthy(900), candidate: s >= 40 ? { n: 100, errors: 1, latency: steady(5) } : healthy(100) }), policy({ dryRun: true }));
    expect(reverted(ds)).toBeUndefined();
    expect(ds.filter((d) => d.action === 'would-revert')).toHaveLength(1);
    const detected = ds.flatMap((d) => d.events).filter((e) => e.type === 'breach-detected');
    expect(detected).toEqual([expect.objectContaining({ dryRun: true })]);
  });

  it('a route at 0 % with no traffic is idle, not insufficient data', () => {
    const ds = simulate(5, () => ({ legacy: healthy(100), candidate: healthy(0) }), policy(), 0);
    expect(ds.at(-1)!.verdict.kind).toBe('idle');
  });
});
