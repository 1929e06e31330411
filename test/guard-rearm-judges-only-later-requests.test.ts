// After a re-arm only requests that started after it are judged, in every window: the sliding
// windows, the requests in flight (a hang), and a ramp's hold. An operator who re-arms and sets
// the split 30 ms after a revert, with the candidate fixed, must not be reverted again on the
// failures that caused the first revert, however they finish. Fake clocks, real guard runner
// and control.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Control } from '../src/control/control.js';
import { GuardRunner } from '../src/guard/runner.js';
import { recordingThresholds } from '../src/guard/thresholds.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { seriesFigures } from '../src/metrics/port.js';
import { rampRules } from '../src/ramp/machine.js';
import { Series } from '../src/stats/series.js';
import { Stats } from '../src/stats/store.js';

function setup() {
  const config = parseConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'], timeouts: { responseMs: 2000 } }, candidate: { upstreams: ['http://127.0.0.1:9'], timeouts: { responseMs: 2000 } } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 10 }],
    guard: { minRequests: 20, consecutive: 1, intervalMs: 500, windowSeconds: 30, fastWindowSeconds: 5, rules: { maxP99Ms: 1000 } },
  });
  const clock = { now: 1_000_000 };
  const stats = new Stats(60, 60, () => clock.now);
  stats.setThresholds(recordingThresholds(config)); // what the wiring does
  const logger = createLogger('silent');
  const control = new Control(config, undefined, logger, () => clock.now, rampRules);
  const metrics = createMetrics({ control, figures: () => seriesFigures(stats), version: 'test', windowSeconds: stats.windowSeconds });
  const guard = new GuardRunner({ stats, control, logger, metrics, clock: () => clock.now }, config);
  const series = stats.route('default');
  const open: Array<{ started: number }> = [];
  /** Requests that start now on one backend and answer `status` after `ms` (or stay open: ms null). */
  const start = (b: 'legacy' | 'candidate', n: number, status: number, ms: number | null) => {
    for (let i = 0; i < n; i++) {
      const flight = { started: clock.now };
      series[b].inFlight.add(flight);
      if (ms === null) open.push(flight);
      else pending.push({ b, flight, at: clock.now + ms, status });
    }
  };
  const pending: Array<{ b: 'legacy' | 'candidate'; flight: { started: number }; at: number; status: number }> = [];
  /** Advance the clock by `ms`, finishing what is due (the proxy's one record per request, with its start). */
  const advance = (ms: number) => {
    const until = clock.now + ms;
    for (; clock.now < until; clock.now += 10) {
      for (let i = pending.length - 1; i >= 0; i--) {
        const r = pending[i];
        if (r.at > clock.now) continue;
        pending.splice(i, 1);
        series[r.b].inFlight.delete(r.flight);
        series[r.b].record(clock.now, r.status, null, (clock.now - r.flight.started) * 1000, false, r.flight.started);
      }
      if (clock.now % 500 === 0) guard.tick();
    }
  };
  return { clock, control, guard, start, advance, close: () => guard.close() };
}

type After = 'healthy' | 'failing';

describe('a re-arm 30 ms after a revert', () => {
  it.each<{ name: string; after: After; reverted: boolean }>([
    { name: 'candidate fixed: no second revert, though the first failures are still in every window', after: 'healthy', reverted: false },
    { name: 'candidate still failing: reverted again, on requests that started after the re-arm only', after: 'failing', reverted: true },
  ])('$name', async ({ after, reverted }) => {
    const g = setup();
    // Healthy history, then the candidate fails: half its answers 500, some slow, one hangs.
    for (let s = 0; s < 5; s++) {
      g.start('candidate', 40, 200, 5);
      g.start('legacy', 200, 200, 5);
      g.advance(1000);
    }
    let revertedAt: number | undefined;
    for (let i = 0; i < 40 && revertedAt === undefined; i++) {
      g.start('candidate', 2, 500, 5);
      g.start('candidate', 1, 200, 1500); // slow: still in flight at the revert, ends after the re-arm
      g.start('legacy', 10, 200, 5);
      g.advance(100);
      if (g.control.latch('default')) revertedAt = g.clock.now;
    }
    expect(revertedAt).toBeDefined();
    g.start('candidate', 1, 200, null); // hangs from before the re-arm
    g.advance(30);
    g.control.rearm({ source: 'api', reason: 'fixed' });
    const rearmedAt = g.clock.now;
    g.control.setSplit(10, { source: 'api' });
    // Traffic again; the slow requests from before the re-arm finish now, and the hang stays open.
    let again: number | undefined;
    for (let i = 0; i < 80 && again === undefined; i++) {
      if (after === 'healthy') g.start('candidate', 3, 200, 5);
      else g.start('candidate', 3, 500, 5);
      g.start('legacy', 15, 200, 5);
      g.advance(100);
      if (g.control.latch('default')) again = g.clock.now;
    }
    expect(again !== undefined).toBe(reverted);
    if (reverted) {
      // The breach that reverted again counted only requests that started after the re-arm.
      const latch = g.control.latch('default')!;
      const rule = (latch.evidence as { rules: Array<{ rule: string; outcome: string; n: number; inFlight: number }> }).rules.find((r) => r.outcome === 'breach')!;
      const startedSince = Math.ceil((again! - rearmedAt) / 100) * 3;
      expect(rule.n).toBeLessThanOrEqual(startedSince);
      expect(rule.inFlight).toBe(0);
    } else {
      expect(g.control.percent('default')).toBe(10);
      expect(g.guard.status().routes.default.state).not.toBe('reverted');
    }
    await g.close();
  });
});

describe('a series after a re-arm', () => {
  it.each([
    { name: 'a request that started before and ends after', started: 900, recorded: 1_200, judged: false },
    { name: 'a request that ended before, in the same second', started: 1_000, recorded: 1_010, judged: false },
    { name: 'a request that started after, in the same second', started: 1_040, recorded: 1_060, judged: true },
    { name: 'a request that started after, a second later', started: 2_100, recorded: 2_200, judged: true },
  ])('$name: judged $judged', ({ started, recorded, judged }) => {
    const s = new Series(60);
    s.record(500, 500, null, 1000, false, 400); // long before: never judged again
    if (recorded < 1_030) s.record(recorded, 500, null, 1000, false, started);
    s.rearm(1_030);
    if (recorded >= 1_030) s.record(recorded, 500, null, 1000, false, started);
    const w = s.windowCounters(3_000, 30, true);
    expect(w.counters.requests).toBe(judged ? 1 : 0);
    expect(w.counters.status[4]).toBe(judged ? 1 : 0);
    expect(w.timed).toBe(judged ? 1 : 0);
    expect(w.histogram!.totalCount).toBe(judged ? 1 : 0);
    expect(s.window(3_000, 30).counters.requests).toBe(2); // metrics see everything
    // A ramp's hold (cumulative now minus at its start, taken at the re-arm) sees the same.
    expect(s.judged(3_000).counters.requests - 1 - (recorded < 1_030 ? 1 : 0)).toBe(judged ? 1 : 0);
  });

  it('leaves requests in flight since before it out of the hang detection', () => {
    const s = new Series(60);
    s.inFlight.add({ started: 100 });
    s.inFlight.add({ started: 2_000 });
    s.rearm(1_000);
    s.inFlight.add({ started: 3_000 });
    expect(s.inFlightAges(10_000, 0)).toEqual([8_000, 7_000]);
  });
});
