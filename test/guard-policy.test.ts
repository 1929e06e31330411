// The guard's policy on simulated traffic with a fake clock: real Series (HDR histograms,
// one-second slices, requests in flight) fed every 10 ms, read exactly as the runner reads them,
// and judged every `intervalMs`. One table row per failure an operator meets.
import { describe, expect, it } from 'vitest';
import { figuresOf } from '../src/guard/figures.js';
import { evaluate, initialGuardState, revertTargets, windowsToJudge, type Decision, type RoutePolicy } from '../src/guard/policy.js';
import { Series, type ErrorKind, type InFlight } from '../src/stats/series.js';

type Backend = 'legacy' | 'candidate';
/** What one request does: answers (status after ms), fails (a transport error after ms), or hangs. */
type Outcome = { status: number; ms: number } | { error: ErrorKind; ms: number } | { hang: true };
interface Load {
  /** requests per second */
  rate: number;
  outcome: (rnd: () => number) => Outcome;
}
type Traffic = (t: number) => Record<Backend, Load>;

const policy = (o: Partial<RoutePolicy> = {}): RoutePolicy => ({
  enabled: true,
  minRequests: 5,
  consecutive: 1,
  dryRun: false,
  confidence: 0.999,
  revertOnSharedOutage: false,
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

interface SimOptions {
  percent?: number;
  intervalMs?: number;
  timeoutMs?: number;
  /** Clients give up after this many ms (the proxy then watches the upstream as Exchange does). */
  clientTimeoutMs?: number;
  seed?: number;
}

/**
 * Feed `seconds` of traffic and judge every interval, exactly as the runner does (30 s and 5 s
 * windows, in-flight ages, the watch after a client gives up); stops at the first revert.
 */
function simulate(seconds: number, traffic: Traffic, p: RoutePolicy, o: SimOptions = {}) {
  const rnd = rng(o.seed ?? 42);
  const intervalMs = o.intervalMs ?? 500;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const series = { legacy: new Series(30), candidate: new Series(30) };
  const slowMs = p.rules.maxP99Ms;
  for (const b of ['legacy', 'candidate'] as const) {
    series[b].slowUs = slowMs === null ? Infinity : slowMs * 1000;
    series[b].watchAbortedMs = Math.min(slowMs ?? Infinity, timeoutMs) + 100;
  }
  // Requests that end later: [end time, backend, record args].
  const pending: Array<{ at: number; b: Backend; flight: InFlight; status: number; error: ErrorKind | null; aborted: boolean }> = [];
  const carry = { legacy: 0, candidate: 0 };
  let state = initialGuardState(0);
  const decisions: Array<Decision & { t: number }> = [];
  let firstBad: number | undefined;
  for (let now = 0; now < seconds * 1000; now += 10) {
    const load = traffic(now / 1000);
    for (const b of ['legacy', 'candidate'] as const) {
      carry[b] += (load[b].rate * 10) / 1000;
      for (; carry[b] >= 1; carry[b]--) {
        const out = load[b].outcome(rnd);
        const flight = { started: now };
        series[b].inFlight.add(flight);
        const bad = 'hang' in out || 'error' in out || out.status >= 500;
        if (b === 'candidate' && bad) firstBad ??= now;
        if ('hang' in out) {
          // A hang ends at the timeout, or where the proxy stops watching a client that gave up.
          const give = o.clientTimeoutMs;
          if (give !== undefined && give < timeoutMs) {
            const end = Math.max(give, series[b].watchAbortedMs);
            if (end < timeoutMs) pending.push({ at: now + end, b, flight, status: 0, error: null, aborted: true });
            else pending.push({ at: now + timeoutMs, b, flight, status: 0, error: 'timeout', aborted: true });
          } else {
            pending.push({ at: now + timeoutMs, b, flight, status: 0, error: 'timeout', aborted: false });
          }
        } else if ('error' in out) {
          pending.push({ at: now + out.ms, b, flight, status: 0, error: out.error, aborted: false });
        } else {
          pending.push({ at: now + out.ms, b, flight, status: out.status, error: null, aborted: false });
        }
      }
    }
    for (let i = pending.length - 1; i >= 0; i--) {
      const r = pending[i];
      if (r.at > now) continue;
      pending.splice(i, 1);
      series[r.b].inFlight.delete(r.flight);
      series[r.b].record(r.at, r.status, r.error, (r.at - r.flight.started) * 1000, r.aborted);
    }
    if (now % intervalMs !== 0 || now === 0) continue;
    const ratio = p.rules.maxP99Ratio !== null;
    const ages = (b: Backend) => series[b].inFlightAges(now, ratio ? 0 : Math.min(slowMs ?? Infinity, timeoutMs));
    const windows = windowsToJudge(30, 5).map((w) => ({
      seconds: w,
      legacy: figuresOf(series.legacy, now, w, ages('legacy'), timeoutMs, ratio).figures,
      candidate: figuresOf(series.candidate, now, w, ages('candidate'), timeoutMs, ratio).figures,
    }));
    const d = evaluate({ windows, policy: p, state, candidatePercent: o.percent ?? 10, now, intervalMs });
    state = d.state;
    decisions.push({ ...d, t: now });
    if (d.action === 'revert') break;
  }
  const revert = decisions.find((d) => d.action === 'revert');
  return { decisions, revert, firstBad, afterFirstBad: revert && firstBad !== undefined ? revert.t - firstBad : undefined };
}

const ok = (ms: number, jitter = 0.2) => (r: () => number): Outcome => ({ status: 200, ms: ms * (1 - jitter + 2 * jitter * r()) });
const failing = (errorRate: number, ms = 20) => (r: () => number): Outcome => (r() < errorRate ? { status: 500, ms } : ok(ms)(r));
const load = (rate: number, outcome: Load['outcome']): Load => ({ rate, outcome });
const hang = (): Outcome => ({ hang: true });
/** 500 req/s at 10 % on the candidate: healthy for `at` seconds, then `bad`. */
const turns = (at: number, bad: Load['outcome'], rate = 500, share = 0.1): Traffic => (t) => ({
  legacy: load(rate * (1 - share), ok(20)),
  candidate: load(rate * share, t < at ? ok(20) : bad),
});

describe('the guard on failures an operator meets', () => {
  it('a candidate that hangs is reverted within maxP99Ms + 3 s', () => {
    const s = simulate(60, turns(30, hang), policy());
    expect(s.revert?.verdict.breaches[0].rule).toBe('maxP99Ms');
    expect(s.afterFirstBad).toBeLessThanOrEqual(5000 + 3000);
    expect(s.revert!.verdict.breaches[0].inFlight).toBeGreaterThan(0); // seen in flight, before anything ended
  });

  it('a hang behind clients that give up after 1 s is reverted within maxP99Ms + 3 s', () => {
    const s = simulate(60, turns(30, hang), policy(), { clientTimeoutMs: 1000 });
    expect(s.revert).toBeDefined();
    expect(s.afterFirstBad).toBeLessThanOrEqual(5000 + 3000);
  });

  it('504s after responseMs count as latency of at least responseMs, for maxP99Ms and maxP99Ratio alike', () => {
    const timeouts = turns(30, hang);
    const abs = simulate(60, timeouts, policy({ rules: { maxErrorRate: null, maxP99Ms: 2000, maxP99Ratio: null, maxErrorRateDelta: null } }), { timeoutMs: 3000 });
    expect(abs.revert?.verdict.breaches[0].rule).toBe('maxP99Ms');
    const rel = simulate(60, timeouts, policy({ rules: { maxErrorRate: null, maxP99Ms: null, maxP99Ratio: 3, maxErrorRateDelta: null } }), { timeoutMs: 3000 });
    expect(rel.revert?.verdict.breaches[0].rule).toBe('maxP99Ratio');
  });

  it('at 5 req/s and 10 %, a candidate failing every request is reverted within 30 s', () => {
    const s = simulate(120, (t) => ({ legacy: load(4.5, ok(20)), candidate: load(0.5, t < 20 ? ok(20) : failing(1)) }), policy());
    expect(s.revert?.verdict.breaches[0].rule).toBe('maxErrorRate');
    expect(s.afterFirstBad).toBeLessThanOrEqual(30_000);
  });

  it('a single failure at low traffic is never enough', () => {
    let n = 0;
    const once = (r: () => number): Outcome => (n++ === 20 ? { status: 500, ms: 20 } : ok(20)(r));
    const s = simulate(300, () => ({ legacy: load(4.5, ok(20)), candidate: load(0.5, once) }), policy());
    expect(s.revert).toBeUndefined();
    expect(s.decisions.filter((d) => d.verdict.kind === 'breach')).toHaveLength(0);
  });

  it('both backends at 4 % errors under a 5 % threshold, 60 candidate req/s: noise never reverts', () => {
    for (const seed of [1, 2, 3]) {
      const s = simulate(600, () => ({ legacy: load(540, failing(0.04)), candidate: load(60, failing(0.04)) }), policy(), { seed });
      expect(s.revert).toBeUndefined();
    }
  });

  it('an error burst at 500 req/s is reverted within 1.5 s of the first failure', () => {
    const s = simulate(40, turns(30, failing(1)), policy());
    expect(s.revert?.verdict.breaches[0].rule).toBe('maxErrorRate');
    expect(s.afterFirstBad).toBeLessThanOrEqual(1500);
  });

  it('partial errors (8 %) against a 5 % threshold are reverted', () => {
    const s = simulate(120, turns(30, failing(0.08)), policy());
    expect(s.revert?.verdict.breaches[0].rule).toBe('maxErrorRate');
  });

  it('connection resets on 10 % of candidate requests are reverted', () => {
    const s = simulate(120, turns(30, (r) => (r() < 0.1 ? { error: 'reset', ms: 1 } : ok(20)(r))), policy());
    expect(s.revert?.verdict.breaches[0].rule).toBe('maxErrorRate');
  });

  it('healthy and noisy (1 % errors, latency spikes) never reverts and ends healthy', () => {
    const noisy = (r: () => number): Outcome => (r() < 0.01 ? { status: 500, ms: 20 } : { status: 200, ms: r() < 0.005 ? 800 : 20 });
    for (const seed of [1, 2, 3]) {
      const s = simulate(300, () => ({ legacy: load(450, noisy), candidate: load(50, noisy) }), policy(), { seed });
      expect(s.revert).toBeUndefined();
      expect(s.decisions.at(-1)!.verdict.kind).toBe('healthy');
    }
  });

  it('4xx-heavy traffic is not an error', () => {
    const fourxx = (r: () => number): Outcome => ({ status: r() < 0.4 ? 404 : 200, ms: 20 });
    const s = simulate(120, () => ({ legacy: load(450, fourxx), candidate: load(50, fourxx) }), policy());
    expect(s.revert).toBeUndefined();
  });

  it('slow degradation (0 → 15 % errors over 60 s) is reverted once the evidence is conclusive, not before 5 % is plausible', () => {
    const s = simulate(120, (t) => ({ legacy: load(450, ok(20)), candidate: load(50, failing(Math.min(0.15, (0.15 * t) / 60))) }), policy());
    expect(s.revert).toBeDefined();
    const b = s.revert!.verdict.breaches[0];
    expect(b.lower).toBeGreaterThan(0.05);
    expect(s.revert!.t / 1000).toBeGreaterThan(20); // the true rate passes 5 % at 20 s
  });

  it('legacy failing while the candidate is healthy does not revert', () => {
    const s = simulate(120, () => ({ legacy: load(450, failing(0.3)), candidate: load(50, ok(20)) }), policy({ rules: { maxErrorRateDelta: 0.02, maxErrorRate: 0.05, maxP99Ms: 5000, maxP99Ratio: null } }));
    expect(s.revert).toBeUndefined();
  });

  it('a candidate faster than legacy does not trip the ratio rule', () => {
    const s = simulate(120, () => ({ legacy: load(450, ok(40)), candidate: load(50, ok(10)) }), policy({ rules: { maxP99Ratio: 1.5, maxErrorRate: 0.05, maxP99Ms: 5000, maxErrorRateDelta: null } }));
    expect(s.revert).toBeUndefined();
    expect(s.decisions.at(-1)!.verdict.kind).toBe('healthy');
  });

  it('relative latency drift: a candidate 3 × slower than legacy trips maxP99Ratio 2 while under maxP99Ms', () => {
    const s = simulate(120, turns(30, ok(60)), policy({ rules: { maxP99Ratio: 2, maxErrorRate: 0.05, maxP99Ms: 5000, maxErrorRateDelta: null } }));
    expect(s.revert?.verdict.breaches[0].rule).toBe('maxP99Ratio');
  });

  it('p99 over the threshold with most requests fast is a breach (2 % of requests at 6 s)', () => {
    const s = simulate(120, turns(30, (r) => ({ status: 200, ms: r() < 0.02 ? 6000 : 20 })), policy());
    expect(s.revert?.verdict.breaches[0].rule).toBe('maxP99Ms');
  });

  it('client aborts on a healthy candidate are left out, not counted as slow or failed', () => {
    const quick = (r: () => number): Outcome => (r() < 0.2 ? { hang: true } : ok(20)(r));
    // A fifth of the requests hang, but their clients give up at 1 s: the upstream is watched
    // until 5.1 s, so these are slow: this is a hang and must show. A healthy candidate whose
    // clients give up is simulated by answers that come within the watch.
    const healthy = (r: () => number): Outcome => ({ status: 200, ms: r() < 0.2 ? 1500 : 20 });
    expect(simulate(60, turns(10, quick), policy(), { clientTimeoutMs: 1000 }).revert).toBeDefined();
    expect(simulate(120, turns(10, healthy), policy(), { clientTimeoutMs: 1000 }).revert).toBeUndefined();
  });

  it('a shared outage (legacy fails the same rule in the same window) is reported, not reverted, unless configured', () => {
    const both: Traffic = (t) => ({ legacy: load(450, t < 30 ? ok(20) : failing(0.5)), candidate: load(50, t < 30 ? ok(20) : failing(0.5)) });
    const s = simulate(60, both, policy());
    expect(s.revert).toBeUndefined();
    const shared = s.decisions.filter((d) => d.verdict.kind === 'shared-outage');
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.flatMap((d) => d.events).filter((e) => e.type === 'shared-outage')).toHaveLength(1);
    expect(simulate(60, both, policy({ revertOnSharedOutage: true })).revert).toBeDefined();
  });

  it('no traffic holds the verdict at insufficient data: never a pass, never a failure', () => {
    const s = simulate(60, () => ({ legacy: load(0, ok(20)), candidate: load(0, ok(20)) }), policy());
    expect(new Set(s.decisions.map((d) => d.verdict.kind))).toEqual(new Set(['insufficient-data']));
    expect(s.decisions[0].events.map((e) => e.type)).toEqual(['insufficient-data-began']);
  });

  it('a route at 0 % is idle, also with no windows read (as the runner does at 0 %)', () => {
    const s = simulate(10, () => ({ legacy: load(100, ok(20)), candidate: load(0, ok(20)) }), policy(), { percent: 0 });
    expect(s.decisions.every((d) => d.verdict.kind === 'idle')).toBe(true);
    const d = evaluate({ windows: [], policy: policy(), state: initialGuardState(0), candidatePercent: 0, now: 500, intervalMs: 500 });
    expect(d.verdict.kind).toBe('idle');
    expect(d.action).toBe('none');
  });
});

describe('verdicts carry their evidence', () => {
  it('a breach names the counts, the observed rate, the bound, the threshold and the confidence', () => {
    const s = simulate(40, turns(30, failing(1)), policy());
    const b = s.revert!.verdict.breaches[0];
    expect(b).toMatchObject({ rule: 'maxErrorRate', threshold: 0.05, confidence: 0.999 });
    expect(b.x).toBeGreaterThan(0);
    expect(b.n).toBeGreaterThanOrEqual(b.x);
    expect(b.observed).toBeCloseTo(b.x / b.n);
    expect(b.lower).toBeGreaterThan(0.05);
    expect(b.message).toMatch(/candidate error rate .* \(\d+ of \d+ requests over \d+ s\); at 99\.9 % confidence at least/);
  });

  it('insufficient evidence says what is missing', () => {
    const s = simulate(3, () => ({ legacy: load(9, ok(20)), candidate: load(1, ok(20)) }), policy());
    expect(s.decisions.at(-1)!.verdict.summary).toMatch(/not enough evidence: .*fewer than minRequests 5/);
  });
});

describe('consecutive, dry run and streaks', () => {
  it('consecutive n acts on the n-th breaching evaluation in a row', () => {
    const one = simulate(40, turns(30, failing(1)), policy({ consecutive: 1 }));
    const three = simulate(40, turns(30, failing(1)), policy({ consecutive: 3 }));
    expect(three.revert!.t - one.revert!.t).toBe(1000); // two more 500 ms evaluations
  });

  it('dryRun detects the same breach and reports would-revert once, never revert', () => {
    const s = simulate(40, turns(30, failing(1)), policy({ dryRun: true }));
    expect(s.revert).toBeUndefined();
    expect(s.decisions.filter((d) => d.action === 'would-revert')).toHaveLength(1);
  });

  it('a breach streak ends when evaluations stop (insufficient data for a few intervals)', () => {
    const p = policy({ consecutive: 5 });
    let state = initialGuardState(0);
    const fig = (requests: number, errors: number) => ({ requests, errors, timed: requests, slow: 0, inFlightMs: [], timeoutMs: 30_000 });
    const judge = (now: number, c: ReturnType<typeof fig>) => {
      const d = evaluate({ windows: [{ seconds: 30, candidate: c, legacy: fig(1000, 0) }], policy: p, state, candidatePercent: 10, now, intervalMs: 500 });
      state = d.state;
      return d;
    };
    judge(500, fig(100, 100));
    judge(1000, fig(100, 100));
    expect(state.streak).toBe(2);
    judge(1500, fig(0, 0));
    judge(2000, fig(0, 0));
    expect(state.streak).toBe(2); // a short gap leaves it as it was
    const d = judge(3000, fig(0, 0));
    expect(d.events.map((e) => e.type)).toContain('streak-reset');
    expect(state.streak).toBe(0);
  });
});

describe('what the runner used to decide', () => {
  // After a re-arm the windows stay as configured: the series leave out the requests that started
  // before it (guard-rearm-judges-only-later-requests.test.ts), where clamping the windows to the
  // time since let the failures that caused the revert count again.
  it('judges the long and the short window', () => {
    expect(windowsToJudge(30, 5)).toEqual([30, 5]);
    expect(windowsToJudge(30, null)).toEqual([30]);
    expect(windowsToJudge(5, 30)).toEqual([5]);
  });

  it('scope all reverts only routes whose own guard is enabled and not a dry run', () => {
    const routes = [
      { name: 'a', policy: policy(), latched: false },
      { name: 'b', policy: policy({ enabled: false }), latched: false },
      { name: 'c', policy: policy({ dryRun: true }), latched: false },
      { name: 'd', policy: policy(), latched: true },
      { name: 'e', policy: policy(), latched: false },
    ];
    expect(revertTargets('all', ['a'], routes)).toEqual(['a', 'e']);
    expect(revertTargets('route', ['a'], routes)).toEqual(['a']);
  });
});
