// onBreach: pause: a breach during the ramp holds the step for a person; the guard does not
// revert the route. Fake clocks, the real guard and ramp runners over real series.
import { expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Control } from '../src/control/control.js';
import { rampRules } from '../src/ramp/machine.js';
import { GuardRunner } from '../src/guard/runner.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { seriesFigures } from '../src/metrics/port.js';
import { RampRunner } from '../src/ramp/runner.js';
import { Stats } from '../src/stats/store.js';

it('pauses the ramp instead of reverting, and keeps the split', async () => {
  const config = parseConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50, 100], holdSeconds: 3600, onBreach: 'pause' } }],
    guard: { minRequests: 20 },
  });
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const stats = new Stats(60, 60, () => clock.now);
  const logger = createLogger('silent');
  const control = new Control(config, undefined, logger, () => clock.now, rampRules);
  const metrics = createMetrics({ control, figures: () => seriesFigures(stats), version: 'test', windowSeconds: stats.windowSeconds });
  const ramp = new RampRunner({ stats, control, logger, metrics, clock: () => clock.now }, config);
  const guard = new GuardRunner({ stats, control, logger, metrics, clock: () => clock.now, breach: ramp }, config);
  try {
    ramp.command('start', { source: 'api' });
    expect(control.percent('default')).toBe(10);
    const series = stats.route('default');
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 50; i++) series.candidate.record(clock.now + i, 500, null, 5000, false);
      for (let i = 0; i < 450; i++) series.legacy.record(clock.now + i, 200, null, 5000, false);
      clock.now += 1000;
      guard.tick();
      ramp.tick();
    }
    expect(control.latch('default')).toBeUndefined();
    expect(control.percent('default')).toBe(10);
    expect(control.ramp('default')).toMatchObject({ status: 'paused', reason: expect.stringMatching(/^breach: candidate error rate 100\.0 %/) });
    expect(ramp.status().routes.default).toMatchObject({ state: 'paused', waitingFor: 'an operator (resume, promote or abort)' });
    // A person decides: abort sends it to 0 %.
    ramp.command('abort', { source: 'cli', reason: 'candidate broken' });
    expect(control.percent('default')).toBe(0);
    expect(control.ramp('default')?.status).toBe('aborted');
  } finally {
    await guard.close();
    await ramp.close();
  }
});
