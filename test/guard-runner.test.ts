// The guard runner with fake clocks: what it applies through control after a revert, a re-arm
// and a reload.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Control } from '../src/control/control.js';
import { rampRules } from '../src/ramp/machine.js';
import { GuardRunner } from '../src/guard/runner.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { seriesFigures } from '../src/metrics/port.js';
import { Stats } from '../src/stats/store.js';
import { waitFor } from './helpers/servers.js';

function setup(guard: Record<string, unknown> = {}) {
  const config = parseConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 10 }],
    guard: { minRequests: 20, ...guard },
  });
  const clock = { now: 1_000_000 };
  const stats = new Stats(60, 60, () => clock.now);
  const logger = createLogger('silent');
  const control = new Control(config, undefined, logger, () => clock.now, rampRules);
  const metrics = createMetrics({ control, figures: () => seriesFigures(stats), version: 'test', windowSeconds: stats.windowSeconds });
  const guardRunner = new GuardRunner({ stats, control, logger, metrics, clock: () => clock.now }, config);
  const series = stats.route('default');
  /** One second of traffic: `n` candidate requests failing at `errors`, 9n legacy requests fine. */
  const second = (n: number, errors: number) => {
    for (let i = 0; i < n; i++) series.candidate.record(clock.now + i, i < n * errors ? 500 : 200, null, 5000, false);
    for (let i = 0; i < 9 * n; i++) series.legacy.record(clock.now + i, 200, null, 5000, false);
    clock.now += 1000;
    guardRunner.tick();
  };
  return { config, clock, control, guardRunner, second, close: () => guardRunner.close() };
}

describe('guard runner', () => {
  it('reverts, refuses a new split while latched, and after a re-arm judges only what came after it', async () => {
    const g = setup();
    for (let s = 0; s < 5; s++) g.second(50, 0);
    g.second(50, 1);
    g.second(50, 1);
    expect(g.control.latch('default')?.rule).toBe('maxErrorRate');
    expect(g.control.percent('default')).toBe(0);

    expect(() => g.control.setSplit(50, { source: 'api' })).toThrow(/guard reverted default and is latched; re-arm it first/);
    expect(() => g.control.setSplit(0, { source: 'api' })).not.toThrow(); // going to 0 is always allowed

    g.control.rearm({ source: 'api', reason: 'fixed' });
    g.control.setSplit(10, { source: 'api' });
    // The failures before the re-arm are still in the 30 s window; they must not revert again.
    // Healthy needs conclusive evidence: about 690 requests without a slow one for the p99 rule.
    for (let s = 0; s < 15; s++) g.second(50, 0);
    expect(g.control.latch('default')).toBeUndefined();
    expect(g.guardRunner.status().routes.default.state).toBe('healthy');
    // New failures still count.
    g.second(50, 1);
    g.second(50, 1);
    expect(g.control.latch('default')?.rule).toBe('maxErrorRate');
    await g.close();
  });

  it('a reload that enables the guard starts it', async () => {
    const g = setup({ enabled: false, intervalMs: 50 });
    g.guardRunner.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(g.guardRunner.status().routes.default.lastVerdict).toBeNull(); // disabled: no timer, no verdict
    g.guardRunner.configure({ ...g.config, guard: { ...g.config.guard, enabled: true } });
    // Only the runner's own timer can judge now: waited for, not given 200 ms (a busy machine delays timers).
    await waitFor(() => g.guardRunner.status().routes.default.lastVerdict !== null, 5000, 'a verdict from the re-enabled timer');
    expect(g.guardRunner.status().routes.default.lastVerdict).not.toBeNull();
    await g.close();
  });
});
